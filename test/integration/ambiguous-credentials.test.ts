import t from 'tap'
import { call, TENANT_A } from '../helper.js'
import { siemToken, startOAuthWorld } from '../oauth-helper.js'

// Review note: a presented but invalid credential fails the request, even next to a valid one.
t.test('ambiguous credentials are refused with 401', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const token = await siemToken(world, TENANT_A)
  const get = async (path: string, headers: Record<string, string>): Promise<number> => (await call(world.url, path, { headers, ca: world.caPem })).status
  const tenantPath = `/tenants/${TENANT_A}/api/alerts?$top=1`
  t.equal(await get('/api/alerts?$top=1', { authorization: `Bearer ${token}` }), 200, 'the token alone')
  t.equal(await get(tenantPath, { 'x-api-key': world.keys.siem }), 200, 'the key alone')
  t.equal(await get('/api/alerts?$top=1', { authorization: `Bearer ${token}`, 'x-api-key': 'wrong-key' }), 401, 'a wrong X-API-Key next to a valid token')
  t.equal(await get(tenantPath, { authorization: `Bearer ${token}`, 'x-api-key': 'wrong-key' }), 401)
  t.equal(await get(tenantPath, { authorization: 'Bearer wrong-key', 'x-api-key': world.keys.siem }), 401, 'a wrong bearer next to a valid X-API-Key')
  t.equal(await get(tenantPath, { authorization: `Bearer ${token}`, 'x-api-key': world.keys.ops }), 401, 'two valid credentials of different clients')
  t.equal(await get(tenantPath, { authorization: `Bearer ${world.keys.ops}`, 'x-api-key': world.keys.siem }), 401, 'two valid keys of different clients')
  t.equal(await get('/api/alerts?$top=1', { authorization: `Bearer ${token}`, 'x-api-key': world.keys.siem }), 200, 'a valid token and the same client\'s key agree')
  t.equal(await get(tenantPath, { authorization: `Bearer ${world.keys.siem}`, 'x-api-key': world.keys.siem }), 200, 'the same key twice')
})
