import t from 'tap'
import { ADMIN_TOKEN, CLIENT_SECRET, TENANT_B, call, startWorld, withKey, type Answer } from '../helper.js'

// One gateway for the file: refusals a newcomer meets first, read as a newcomer would.
const world = await startWorld()
t.teardown(async () => { await world.close() })

const errorOf = (res: Answer): { code: string, message: string, target: string } => res.json().error

t.test('TenantNotAllowed quotes the tenant as the caller wrote it', async (t) => {
  const res = await call(world.url, '/tenants/Fabrikam/api/alerts', { headers: withKey(world.keys.narrow) })
  t.equal(res.status, 403)
  t.equal(errorOf(res).code, 'TenantNotAllowed')
  t.match(errorOf(res).message, "tenant 'Fabrikam'")
  t.equal(errorOf(res).target, res.headers['x-request-id'])
})

t.test('PermissionNotAllowed names the allowlist that lacks it and points at a working explain endpoint', async (t) => {
  const cases = [
    // narrow: Alert.Read.All only; contoso allows everything
    { key: world.keys.narrow, method: 'GET', path: '/tenants/CONTOSO/api/machines', lacks: ["client 'narrow' (clients[].permissions)"], not: ['tenants[].permissions'] },
    // ops may use Software.Read.All; woodgrove does not allow it
    { key: world.keys.ops, method: 'GET', path: '/tenants/WoodGrove/api/Software', lacks: ["tenant 'WoodGrove' (tenants[].permissions)"], not: ['clients[].permissions'] },
    // siem: no Alert.ReadWrite.All, and woodgrove does not allow it either
    { key: world.keys.siem, method: 'PATCH', path: '/tenants/WoodGrove/api/alerts/a1', lacks: ["client 'siem' (clients[].permissions)", "tenant 'WoodGrove' (tenants[].permissions)"], not: [] }
  ]
  for (const c of cases) {
    const res = await call(world.url, c.path, { method: c.method, headers: withKey(c.key, { 'content-type': 'application/json' }), body: c.method === 'PATCH' ? '{}' : undefined })
    t.equal(res.status, 403, c.path)
    const { code, message } = errorOf(res)
    t.equal(code, 'PermissionNotAllowed', c.path)
    for (const words of c.lacks) t.match(message, words, `${c.path}: ${words}`)
    for (const words of c.not) t.notMatch(message, words, `${c.path}: not ${words}`)
    // The pointer works as written, with the same key.
    const explainPath = /GET (\/tenants\/\S+\/explain)/.exec(message)?.[1]
    t.equal(explainPath, `${c.path.split('/api/')[0] as string}/explain`, 'points at the explain endpoint of the tenant as written')
    const explained = await call(world.url, explainPath ?? '/', { headers: withKey(c.key) })
    t.equal(explained.status, 200, 'and that endpoint answers')
    t.ok(Array.isArray(explained.json().permissions), 'with the effective permissions')
  }
})

t.test('PermissionNotGranted quotes the tenant as written and points at explain?consent=check', async (t) => {
  // woodgrove's config allows Machine.Isolate, but the simulated tenant granted only read roles.
  const res = await call(world.url, '/tenants/WoodGrove/api/machines/m1/isolate', { method: 'POST', headers: withKey(world.keys.ops, { 'content-type': 'application/json' }), body: '{"Comment":"x","IsolationType":"Full"}' })
  t.equal(res.status, 403)
  t.equal(errorOf(res).code, 'PermissionNotGranted')
  t.match(errorOf(res).message, "Tenant 'WoodGrove'")
  t.match(errorOf(res).message, 'Machine.Isolate')
  t.match(errorOf(res).message, 'GET /tenants/WoodGrove/explain?consent=check')
})

t.test('TokenUnavailable says which host failed and why, and never a secret', async (t) => {
  const entraHost = new URL(world.sim.entra.url).host
  world.sim.entra.setFault(TENANT_B, { kind: 'status', status: 500 })
  t.teardown(() => { world.sim.entra.setFault(TENANT_B, undefined) })
  const res = await call(world.url, '/tenants/fabrikam/api/alerts', { headers: withKey(world.keys.siem) })
  t.equal(res.status, 503)
  t.equal(errorOf(res).code, 'TokenUnavailable')
  t.match(errorOf(res).message, `${entraHost} answered HTTP 500`)
  t.notMatch(res.text, CLIENT_SECRET)
  t.notMatch(res.text, world.keys.siem)
})

t.test('admin 404s use the documented error shape', async (t) => {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
  for (const [method, path] of [['GET', '/admin/tenants/Nobody'], ['POST', '/admin/tenants/Nobody/refresh']] as const) {
    const res = await call(world.adminUrl, path, { method, headers: admin })
    t.equal(res.status, 404, `${method} ${path}`)
    t.match(res.headers['content-type'], 'application/json')
    const { code, message, target } = errorOf(res)
    t.equal(code, 'NotFound')
    t.match(message, "Tenant 'Nobody'")
    t.ok(typeof target === 'string' && target.length > 0 && target === res.headers['x-request-id'], 'target is the x-request-id of the answer')
  }
})
