import t from 'tap'
import { call, startWorld, withKey, TENANT_A, TENANT_B, TENANT_C, CLIENT_SECRET, type TestWorld } from '../helper.js'

let world: TestWorld
// Defender's own rate limit is exercised elsewhere; here it would only get in the way of counting tokens.
t.before(async () => { world = await startWorld({ sim: { defender: { ratePerMinute: 100_000 } } }) })
t.teardown(async () => { await world.close() })

const received = (): number => Object.values(world.sim.regions).reduce((n, r) => n + r.received.length, 0)
const errorOf = (text: string): { code: string, message: string, target: string } => JSON.parse(text).error

t.test('an allowed GET returns that tenant\'s alerts, query string kept byte-for-byte', async (t) => {
  const query = '?$filter=lastUpdateTime+ge+2020-01-01T00:00:00Z&%24top=5&$expand=evidence'
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts${query}`, { headers: withKey(world.keys.siem) })
  t.equal(res.status, 200)
  const body = res.json()
  t.equal(body.value.length, 5)
  t.ok(body.value.every((a: { aadTenantId: string }) => a.aadTenantId === TENANT_A), 'only tenant A alerts')
  t.ok(body.value[0].evidence, '$expand=evidence reached Defender')
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  const last = world.sim.regions.eu!.received.at(-1)!
  t.equal(last.url, `/api/alerts${query}`, 'upstream saw the same path and query bytes')
})

t.test('a tenant alias works like its id', async (t) => {
  const res = await call(world.url, '/tenants/contoso/api/alerts?$top=1', { headers: withKey(world.keys.siem) })
  t.equal(res.status, 200)
  t.equal(res.json().value[0].aadTenantId, TENANT_A)
})

t.test('Authorization: Bearer <key> authenticates too', async (t) => {
  const res = await call(world.url, `/tenants/${TENANT_A}/api/machines`, { headers: { authorization: `Bearer ${world.keys.siem}` } })
  t.equal(res.status, 200)
})

t.test('200 sequential requests for one tenant make exactly one token request', async (t) => {
  for (let i = 0; i < 200; i++) {
    const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
    if (res.status !== 200) t.fail(`request ${i} answered ${res.status}`)
  }
  t.equal(world.sim.entra.tokenRequests(TENANT_A), 1, 'one token request for tenant A since the gateway started')
})

t.test('50 concurrent cold requests for another tenant make exactly one token request', async (t) => {
  t.equal(world.sim.entra.tokenRequests(TENANT_B), 0, 'tenant B is cold')
  const answers = await Promise.all(Array.from({ length: 50 }, async () =>
    await call(world.url, `/tenants/${TENANT_B}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })))
  t.same(answers.map((a) => a.status), Array(50).fill(200))
  t.equal(world.sim.entra.tokenRequests(TENANT_B), 1)
  t.ok(answers.every((a) => a.json().value[0].aadTenantId === TENANT_B), 'every answer is tenant B data')
})

t.test('two tenants never see each other\'s data', async (t) => {
  const [a, b] = await Promise.all([TENANT_A, TENANT_B].map(async (id) =>
    await call(world.url, `/tenants/${id}/api/alerts`, { headers: withKey(world.keys.siem) })))
  const idsA = new Set(a!.json().value.map((x: { id: string }) => x.id))
  const idsB = b!.json().value.map((x: { id: string }) => x.id)
  t.ok(idsA.size > 0 && idsB.length > 0)
  t.ok(idsB.every((id: string) => !idsA.has(id)), 'no alert id appears in both tenants')
  t.ok(a!.json().value.every((x: { aadTenantId: string }) => x.aadTenantId === TENANT_A))
  t.ok(b!.json().value.every((x: { aadTenantId: string }) => x.aadTenantId === TENANT_B))
})

t.test('the caller\'s key and cookies never reach Defender; the tenant token and our User-Agent do', async (t) => {
  const eu = world.sim.regions.eu!
  eu.reset()
  await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, {
    headers: withKey(world.keys.siem, { cookie: 'session=abc', 'x-forwarded-for': '6.6.6.6', connection: 'x-keep-me', 'x-keep-me': '1' })
  })
  await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: { authorization: `Bearer ${world.keys.siem}` } })
  t.equal(eu.received.length, 2)
  for (const r of eu.received) {
    const raw = JSON.stringify(r.headers)
    t.notOk(raw.includes(world.keys.siem), 'key absent from every upstream header')
    t.equal(r.headers['x-api-key'], undefined)
    t.equal(r.headers.cookie, undefined)
    t.equal(r.headers['x-forwarded-for'], undefined, 'X-Forwarded-* not sent without trustProxy')
    t.equal(r.headers['x-keep-me'], undefined, 'headers named by Connection are hop-by-hop')
    t.match(String(r.headers.authorization), /^Bearer ey/)
    t.match(String(r.headers['user-agent']), /^MdatpPartner-DefenderGateway\//)
    t.equal(r.tenant, TENANT_A)
  }
})

t.test('missing or wrong key: 401, nothing forwarded, no token fetched', async (t) => {
  world.sim.entra.resetCounts()
  const before = received()
  const cases: Array<[string, Record<string, string>]> = [
    ['no key', {}],
    ['wrong key', { 'x-api-key': 'gk_wrong' }],
    ['wrong bearer', { authorization: 'Bearer gk_wrong' }],
    ['basic auth', { authorization: `Basic ${Buffer.from(`x:${world.keys.siem}`).toString('base64')}` }],
    ['empty key', { 'x-api-key': '' }]
  ]
  for (const [name, headers] of cases) {
    const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts`, { headers })
    t.equal(res.status, 401, name)
    const err = errorOf(res.text)
    t.equal(err.code, 'GatewayUnauthenticated', name)
    t.equal(err.target, res.headers['x-request-id'], `${name}: target is the request id`)
  }
  t.equal(received(), before, 'Defender received nothing')
  t.equal(world.sim.entra.tokenRequests(), 0, 'Entra received nothing')
})

t.test('tenant, permission or route not allowed: 403, nothing forwarded, no token fetched', async (t) => {
  world.sim.entra.resetCounts()
  const before = received()
  const cases: Array<[string, string, string, string, string?]> = [
    ['tenant outside client list', world.keys.narrow, 'GET', `/tenants/${TENANT_B}/api/alerts`, 'TenantNotAllowed'],
    ['unknown tenant', world.keys.siem, 'GET', '/tenants/99999999-9999-4999-8999-999999999999/api/alerts', 'TenantNotAllowed'],
    ['permission outside client allowlist', world.keys.narrow, 'GET', `/tenants/${TENANT_A}/api/machines`, 'PermissionNotAllowed'],
    ['write with read-only client', world.keys.siem, 'POST', `/tenants/${TENANT_A}/api/machines/abc/isolate`, 'PermissionNotAllowed'],
    ['permission outside tenant allowlist', world.keys.ops, 'GET', `/tenants/${TENANT_C}/api/indicators`, 'PermissionNotAllowed'],
    ['route not in catalogue', world.keys.siem, 'GET', `/tenants/${TENANT_A}/api/incidents`, 'UnknownRoute'],
    ['wrong method for route', world.keys.ops, 'DELETE', `/tenants/${TENANT_A}/api/alerts/da1`, 'UnknownRoute'],
    ['outside /api', world.keys.siem, 'GET', `/tenants/${TENANT_A}/other`, 'BadRequest'],
    ['dot segment escape', world.keys.siem, 'GET', `/tenants/${TENANT_A}/api/../../admin`, 'BadRequest'],
    ['encoded slash', world.keys.siem, 'GET', `/tenants/${TENANT_A}/api/alerts%2f..%2fmachines`, 'BadRequest'],
    ['TRACE', world.keys.siem, 'TRACE', `/tenants/${TENANT_A}/api/alerts`, 'MethodNotAllowed']
  ]
  for (const [name, key, method, path, code] of cases) {
    const res = await call(world.url, path, { method, headers: withKey(key, { 'content-type': 'application/json' }), body: method === 'POST' ? '{"Comment":"x"}' : undefined })
    t.equal(errorOf(res.text).code, code, name)
    t.ok(res.status === 403 || res.status === 400 || res.status === 405, `${name}: ${res.status}`)
  }
  t.equal(received(), before, 'Defender received nothing')
  t.equal(world.sim.entra.tokenRequests(), 0, 'Entra received nothing')
})

t.test('a write the client and tenant allow is forwarded', async (t) => {
  const res = await call(world.url, `/tenants/${TENANT_A}/api/machines/4275c337d63a3a63458a050a52b7d10761d5aac9/isolate`, {
    method: 'POST', headers: withKey(world.keys.ops, { 'content-type': 'application/json' }), body: JSON.stringify({ Comment: 'incident 42', IsolationType: 'Full' })
  })
  t.equal(res.status, 201)
  t.equal(res.json().type, 'Isolate')
  const audit = world.logs.find((l) => l.audit === true && l.route === 'machines.isolate' && l.decision === 'forwarded')
  t.ok(audit, 'an audit line was written')
  t.equal(audit?.client, 'ops')
  t.equal(audit?.tenant, TENANT_A)
})

t.test('request bodies: JSON must parse, a JSON route refuses another type, nothing is forwarded', async (t) => {
  const post = async (path: string, type: string | undefined, body: string) => await call(world.url, `/tenants/${TENANT_A}${path}`, {
    method: 'POST', headers: withKey(world.keys.ops, type === undefined ? {} : { 'content-type': type }), body
  })
  const before = received()
  const bad = await post('/api/advancedqueries/run', 'application/json', '{"Query": "DeviceInfo | take 1"')
  t.equal(bad.status, 400, bad.text)
  t.equal(bad.json().error.code, 'BadRequest', 'Defender\'s error shape')
  t.match(bad.json().error.message, /not valid JSON/)
  const weird = await post('/api/advancedqueries/run', 'text/x-weird', 'DeviceInfo | take 1')
  t.equal(weird.status, 415, weird.text)
  t.equal(weird.json().error.code, 'UnsupportedMediaType')
  const untyped = await post('/api/machines/4275c337d63a3a63458a050a52b7d10761d5aac9/isolate', undefined, 'Comment=x')
  t.equal(untyped.status, 400, 'an untyped body is read as JSON, and this is none')
  t.equal(received(), before, 'Defender received none of them')
  const ok = await post('/api/advancedqueries/run', 'application/json; charset=utf-8', JSON.stringify({ Query: 'DeviceInfo | take 1' }))
  t.not(ok.status, 400, 'a valid JSON body goes through')
  t.not(ok.status, 415)
})

t.test('a role the tenant never consented to: 403 PermissionNotGranted with the consent link, nothing forwarded', async (t) => {
  const before = received()
  const res = await call(world.url, `/tenants/${TENANT_C}/api/machines/abc/isolate`, {
    method: 'POST', headers: withKey(world.keys.ops, { 'content-type': 'application/json' }), body: '{"Comment":"x"}'
  })
  t.equal(res.status, 403)
  const err = errorOf(res.text)
  t.equal(err.code, 'PermissionNotGranted')
  t.match(err.message, 'Machine.Isolate')
  t.match(err.message, `${TENANT_C}/adminconsent?client_id=`)
  t.equal(received(), before)
})

t.test('nothing secret in any log line', async (t) => {
  const all = world.rawLogs.join('\n')
  t.notOk(all.includes(CLIENT_SECRET), 'no client secret')
  for (const key of Object.values(world.keys)) t.notOk(all.includes(key), 'no API key')
  t.notOk(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./.test(all), 'no JWT')
  t.ok(world.logs.some((l) => l.msg === 'request' && l.route === 'alerts.list'), 'access lines exist')
})
