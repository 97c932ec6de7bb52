import t from 'tap'
import { call, startWorld, withKey, TENANT_A, type TestWorld } from '../helper.js'

// Defender answering 401 rejects the gateway's token, never the caller: purge, re-acquire once, replay
// idempotent requests once, never a POST, and never pass the 401 on. The re-acquisition cool-down is off
// here so each test starts from a fresh token (reacquire.test.ts covers the cool-down).
let world: TestWorld
t.before(async () => {
  world = await startWorld({ config: (base) => ({ ...base, tokens: { reacquireCooldownMs: 0 }, upstream: { ...base.upstream, regions: { eu: base.upstream.regions.eu } } }) })
})
t.teardown(async () => { await world.close() })

const errorOf = (text: string): { code: string, message: string } => JSON.parse(text).error

t.test('a GET whose token is rejected is replayed once with a fresh token', async (t) => {
  const eu = world.sim.regions.eu!
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200)
  const tokensBefore = world.sim.entra.tokenRequests(TENANT_A)
  eu.reset()
  eu.setFault({ kind: 'status', status: 401, times: 1 })
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(res.status, 200, 'the caller never sees our 401')
  t.equal(res.json().value.length, 1)
  t.equal(eu.received.length, 2, 'sent, rejected, replayed')
  t.equal(world.sim.entra.tokenRequests(TENANT_A) - tokensBefore, 1, 'exactly one new token')
  t.not(eu.received[0]!.headers.authorization, eu.received[1]!.headers.authorization, 'the replay carried the new token')
})

t.test('a second 401 is our problem: 502, not the caller\'s 401', async (t) => {
  const eu = world.sim.regions.eu!
  eu.reset()
  eu.setFault({ kind: 'status', status: 401, times: 2 })
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(res.status, 502)
  t.equal(errorOf(res.text).code, 'UpstreamUnavailable')
  t.match(errorOf(res.text).message, 'fresh token was rejected too')
  t.equal(eu.received.length, 2, 'replayed once only')
})

t.test('a POST is never replayed', async (t) => {
  const eu = world.sim.regions.eu!
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200, 'a cached token to start from')
  eu.reset()
  eu.setFault({ kind: 'status', status: 401, times: 1 })
  const tokensBefore = world.sim.entra.tokenRequests(TENANT_A)
  const res = await call(world.url, `/tenants/${TENANT_A}/api/machines/abc/isolate`, {
    method: 'POST', headers: withKey(world.keys.ops, { 'content-type': 'application/json' }), body: '{"Comment":"once"}'
  })
  t.equal(res.status, 502)
  t.match(errorOf(res.text).message, 'not repeated')
  t.equal(eu.received.filter((r) => r.method === 'POST').length, 1, 'the isolate went out once')
  const next = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(next.status, 200)
  t.equal(world.sim.entra.tokenRequests(TENANT_A) - tokensBefore, 1, 'the rejected token was purged: the next request got a fresh one')
})
