import t from 'tap'
import { call, startWorld, ADMIN_TOKEN, TENANT_A, TENANT_C } from '../helper.js'

const UNCONSENTED = '66666666-6666-4666-8666-666666666666'

t.test('admin API: tenant status with consent gaps, token errors, forced refresh, all behind the admin token', async (t) => {
  const world = await startWorld({
    config: (base) => ({ ...base, tenants: [...base.tenants, { id: UNCONSENTED, name: 'prospect', permissions: ['Alert.Read.All'] }] })
  })
  t.teardown(async () => { await world.close() })
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
  t.equal((await call(world.adminUrl, `/admin/tenants/${TENANT_C}`)).status, 401)
  t.equal((await call(world.adminUrl, `/admin/tenants/${TENANT_C}/refresh`, { method: 'POST' })).status, 401)

  const gap = (await call(world.adminUrl, '/admin/tenants/woodgrove', { headers: admin })).json()
  t.equal(gap.id, TENANT_C)
  t.same(gap.configured, ['Alert.Read.All', 'Machine.Isolate', 'Machine.Read.All'])
  t.same(gap.missing, ['Machine.Isolate'], 'configured but not consented')
  t.ok(gap.granted.includes('Alert.Read.All'))
  t.equal(gap.token.ok, true)
  t.match(gap.consentUrl, `${TENANT_C}/adminconsent?client_id=`)
  t.same(gap.regions, ['eu', 'us'])

  const prospect = (await call(world.adminUrl, '/admin/tenants/prospect', { headers: admin })).json()
  t.equal(prospect.token.ok, false)
  t.equal(prospect.token.errorClass, 'not-onboarded')

  const before = world.sim.entra.tokenRequests(TENANT_A)
  await call(world.adminUrl, `/admin/tenants/${TENANT_A}`, { headers: admin })
  const refreshed = await call(world.adminUrl, `/admin/tenants/${TENANT_A}/refresh`, { method: 'POST', headers: admin })
  t.equal(refreshed.status, 200)
  t.equal(refreshed.json().refreshed, true)
  t.equal(world.sim.entra.tokenRequests(TENANT_A) - before, 2, 'status acquired one token, refresh forced another')
  const failed = await call(world.adminUrl, '/admin/tenants/prospect/refresh', { method: 'POST', headers: admin })
  t.equal(failed.status, 503)
  t.equal((await call(world.adminUrl, '/admin/tenants/nobody', { headers: admin })).status, 404)
  t.notOk(JSON.stringify(gap).includes('eyJ'), 'no token in the answer')
})

t.test('without admin.token the admin API is off, health and metrics stay open', async (t) => {
  const world = await startWorld({ config: (base) => ({ ...base, admin: { host: '127.0.0.1', port: 0 } }) })
  t.teardown(async () => { await world.close() })
  const off = await call(world.adminUrl, '/admin/regions', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(off.status, 404)
  t.match(JSON.parse(off.text).error, { code: 'NotFound', message: /set admin.token/ })
  t.equal((await call(world.adminUrl, '/healthz')).status, 200)
  t.equal((await call(world.adminUrl, '/metrics')).status, 200)
})
