import t from 'tap'
import { connect } from 'node:net'
import { call, startWorld, withKey, TENANT_A, TENANT_B, TENANT_C, type TestWorld } from '../helper.js'

let world: TestWorld
t.before(async () => {
  world = await startWorld({
    sim: { defender: { ratePerMinute: 1_000_000 } },
    config: (base) => ({
      ...base,
      extraRoutes: [{ name: 'machines.newReport', method: 'GET', template: '/api/machines/{id}/newReport', permissions: ['machine.read.all'] }]
    })
  })
})
t.teardown(async () => { await world.close() })

const errorOf = (text: string): { code: string, message: string } => JSON.parse(text).error

/** Sends bytes exactly as given and returns the raw answer (for request lines no HTTP client will send). */
async function raw (request: string): Promise<string> {
  const url = new URL(world.url)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(request))
    let out = ''
    socket.on('data', (c: Buffer) => { out += c.toString() })
    socket.on('end', () => resolve(out))
    socket.on('error', reject)
  })
}

t.test('routes match case-insensitively, with /api/v1.0/ and OData function segments, forwarded byte for byte', async (t) => {
  const eu = world.sim.regions.eu!
  const paths = [
    '/api/v1.0/alerts?$top=1',
    '/API/Alerts?%24top=1',
    "/api/machines/findbyip(ip='10.1.2.3',timestamp=2024-09-22T08:44:05Z)",
    '/api/machines/findbyip(ip=%2710.1.2.3%27,timestamp=2024-09-22T08:44:05Z)'
  ]
  for (const path of paths) {
    const before = eu.received.length
    await call(world.url, `/tenants/${TENANT_A}${path}`, { headers: withKey(world.keys.siem) })
    t.equal(eu.received.length, before + 1, `${path} was forwarded`)
    t.equal(eu.received.at(-1)!.url, path, `${path} reached Defender unchanged`)
  }
})

t.test('an operator-added route (extraRoutes) is forwarded with its permission; unknown ones are not', async (t) => {
  const eu = world.sim.regions.eu!
  const before = eu.received.length
  const added = await call(world.url, `/tenants/${TENANT_A}/api/machines/abc/newReport`, { headers: withKey(world.keys.siem) })
  t.equal(eu.received.length, before + 1, 'forwarded (the simulator does not know it: 404)')
  t.equal(added.status, 404)
  const other = await call(world.url, `/tenants/${TENANT_A}/api/machines/abc/otherReport`, { headers: withKey(world.keys.siem) })
  t.equal(errorOf(other.text).code, 'UnknownRoute')
  const denied = await call(world.url, `/tenants/${TENANT_A}/api/machines/abc/newReport`, { headers: withKey(world.keys.narrow) })
  t.equal(errorOf(denied.text).code, 'PermissionNotAllowed')
  t.equal(eu.received.length, before + 1)
})

t.test('path-override headers are ignored and never forwarded', async (t) => {
  const eu = world.sim.regions.eu!
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, {
    headers: withKey(world.keys.narrow, { 'x-original-url': '/api/machines', 'x-rewrite-url': '/api/machines', 'x-http-method-override': 'DELETE' })
  })
  t.equal(res.status, 200)
  const got = eu.received.at(-1)!
  t.equal(got.url, '/api/alerts?$top=1')
  t.equal(got.method, 'GET')
  t.equal(got.headers['x-original-url'], undefined)
  t.equal(got.headers['x-rewrite-url'], undefined)
  t.equal(got.headers['x-http-method-override'], undefined)
})

t.test('request lines no client library sends: CONNECT, absolute-form, fragments', async (t) => {
  const eu = world.sim.regions.eu!
  const before = eu.received.length
  const key = `X-API-Key: ${world.keys.siem}\r\n`
  const connectAnswer = await raw(`CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n${key}\r\n`)
  t.match(connectAnswer, /^HTTP\/1\.1 405 /)
  t.match(connectAnswer, /"code":"MethodNotAllowed"/)
  const absolute = await raw(`GET http://evil.example/tenants/${TENANT_A}/api/alerts HTTP/1.1\r\nHost: x\r\n${key}Connection: close\r\n\r\n`)
  t.match(absolute, /^HTTP\/1\.1 400 /)
  t.match(absolute, /"code":"BadRequest"/)
  const fragment = await raw(`GET /tenants/${TENANT_A}/api/machines/x#/alerts HTTP/1.1\r\nHost: x\r\n${key}Connection: close\r\n\r\n`)
  t.match(fragment, /^HTTP\/1\.1 400 /)
  const trace = await raw(`TRACE /tenants/${TENANT_A}/api/alerts HTTP/1.1\r\nHost: x\r\n${key}Connection: close\r\n\r\n`)
  t.match(trace, /^HTTP\/1\.1 405 /)
  t.equal(eu.received.length, before, 'none of them reached Defender')
})

t.test('explain: effective permissions and the routes they open, and which are consented', async (t) => {
  const noKey = await call(world.url, `/tenants/${TENANT_A}/explain`)
  t.equal(noKey.status, 401)
  const otherTenant = await call(world.url, `/tenants/${TENANT_B}/explain`, { headers: withKey(world.keys.narrow) })
  t.equal(errorOf(otherTenant.text).code, 'TenantNotAllowed')
  const narrow = await call(world.url, '/tenants/contoso/explain', { headers: withKey(world.keys.narrow) })
  t.equal(narrow.status, 200)
  const body = narrow.json()
  t.same(body.permissions, ['Alert.Read.All'])
  t.ok(body.routes.some((r: { name: string }) => r.name === 'alerts.list'))
  t.notOk(body.routes.some((r: { name: string }) => r.name === 'machines.list'), 'no route the allowlists close')
  t.ok(body.routes.every((r: { permission: string }) => r.permission === 'Alert.Read.All'))
  const check = await call(world.url, `/tenants/${TENANT_C}/explain?consent=check`, { headers: withKey(world.keys.ops) })
  const consent = check.json().consent
  t.ok(consent.granted.includes('Machine.Read.All'))
  t.same(consent.missing, ['Machine.Isolate'], 'allowed by config but not consented in the tenant')
  t.match(consent.consentUrl, `${TENANT_C}/adminconsent`)
})

t.test('every write is audited: forwarded, refused by policy, and failed upstream with Defender\'s target', async (t) => {
  const machine = (await call(world.url, `/tenants/${TENANT_A}/api/machines`, { headers: withKey(world.keys.ops) })).json().value[0].id
  const isolate = async (key: string, body: string): ReturnType<typeof call> => await call(world.url, `/tenants/${TENANT_A}/api/machines/${machine}/isolate`, {
    method: 'POST', headers: withKey(key, { 'content-type': 'application/json' }), body
  })
  const ok = await isolate(world.keys.ops, '{"Comment":"audit me","IsolationType":"Selective"}')
  t.equal(ok.status, 201)
  const refused = await isolate(world.keys.siem, '{"Comment":"not mine"}')
  t.equal(refused.status, 403)
  const bad = await isolate(world.keys.ops, '{"NoComment":true}')
  t.equal(bad.status, 400)
  const audits = world.logs.filter((l) => l.audit === true && l.route === 'machines.isolate')
  const byId = (id: string | string[] | undefined): Record<string, unknown> | undefined => audits.find((a) => a.requestId === id)
  t.match(byId(ok.headers['x-request-id']), { client: 'ops', tenant: TENANT_A, permission: 'Machine.Isolate', decision: 'forwarded', upstreamStatus: 201, defenderId: ok.json().id })
  t.match(byId(refused.headers['x-request-id']), { client: 'siem', decision: 'refused', denied: 'PermissionNotAllowed' })
  t.match(byId(bad.headers['x-request-id']), { decision: 'forwarded', upstreamStatus: 400, defenderTarget: JSON.parse(bad.text).error.target })
  const reads = world.logs.filter((l) => l.audit === true && l.route === 'machines.list')
  t.equal(reads.length, 0, 'reads are not audited')
})
