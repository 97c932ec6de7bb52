import t from 'tap'
import { call, startWorld, withKey } from '../helper.js'
import { destroyPeers, idleDownload, slowUpload, until } from '../slow-peers.js'
import { EXPORT, ISOLATE, QUERY, inFlight, refusals, victimSucceeds, world } from '../starvation-helper.js'

// Regression (issue 13, item 3): one client with 300 slow request bodies held 257 of a region's 256
// pooled upstream connections and every other tenant on that region timed out. Here the pool is made
// small, a greedy client misbehaves in every way it can, and the victim's requests must all succeed.

t.teardown(destroyPeers)

t.test('the reported attack, default settings: 300 slow uploads from one client cannot starve another', async (t) => {
  const w = await startWorld({ sim: { defender: { ratePerMinute: 100_000 } } })
  t.teardown(async () => {
    destroyPeers()
    await w.close()
  })
  const uploads = await Promise.all(Array.from({ length: 300 }, async () => await slowUpload(w.url, w.keys.ops, ISOLATE)))
  const answers = uploads.map(async (u) => await u.answer())
  let answered = 0
  for (const a of answers) a.then(() => { answered++ }, () => {})
  // The default cap admits 128 (their bodies wait at the gateway, idle until server.bodyIdleTimeoutMs);
  // the other 172 are refused at once. Whatever the machine's speed, 172 answers come first.
  await until(() => answered >= 172)
  await victimSucceeds(t, w)
  const statuses = (await Promise.all(answers)).map((a) => a.status)
  t.same(statuses.filter((s) => s !== 429 && s !== 408), [], 'every slow upload got 429 (cap) or 408 (idle body)')
  t.ok(await refusals(w, 'client_in_flight') > 0)
  t.notOk(w.sim.regions.eu!.received.some((r) => r.method === 'POST'), 'no slow upload ever held a connection to Defender')
})

t.test('in-flight caps: a greedy client holds at most its share of the pool; its excess gets 429', async (t) => {
  const w = await world(t, { maxInFlightPerClient: 3, maxInFlightPerTenant: 4, responseWriteIdleMs: 600_000, bodyIdleTimeoutMs: 600_000 }, 5)
  const eu = w.sim.regions.eu!
  const exports = (): number => eu.received.filter((r) => r.url.includes('SoftwareInventory')).length
  // Three downloads that are never read: each holds one upstream connection.
  for (let i = 0; i < 3; i++) await idleDownload(w.url, w.keys.ops, EXPORT)
  await until(() => exports() === 3)
  // Everything more from that client is refused at once, however it asks.
  const uploads = await Promise.all(Array.from({ length: 20 }, async () => await slowUpload(w.url, w.keys.ops, QUERY)))
  const gets = await Promise.all(Array.from({ length: 20 }, async () => await call(w.url, EXPORT, { headers: withKey(w.keys.ops) })))
  for (const answer of await Promise.all(uploads.map(async (u) => await u.answer()))) {
    t.equal(answer.status, 429)
    t.equal(answer.code, 'RateLimited')
  }
  for (const answer of gets) {
    t.equal(answer.status, 429)
    t.equal(JSON.parse(answer.text).error.code, 'RateLimited')
  }
  t.match(gets[0]!.headers['retry-after'], /^\d+$/)
  t.equal(await refusals(w, 'client_in_flight'), 40)
  // Another client on the same tenant gets the tenant's last slot, then the tenant cap answers.
  await idleDownload(w.url, w.keys.siem, EXPORT)
  await until(() => exports() === 4)
  const capped = await call(w.url, EXPORT, { headers: withKey(w.keys.siem) })
  t.equal(capped.status, 429)
  t.match(JSON.parse(capped.text).error.message, /Tenant .* requests in flight/)
  t.equal(await refusals(w, 'tenant_in_flight'), 1)
  t.equal(exports(), 4, 'no refused request reached Defender')
  await victimSucceeds(t, w)
})

t.test('slow uploads never hold an upstream connection: the body is read whole first', async (t) => {
  const w = await world(t, { maxInFlightPerClient: 1000, bodyIdleTimeoutMs: 600_000 }, 1)
  const eu = w.sim.regions.eu!
  const uploads = await Promise.all(Array.from({ length: 30 }, async () => await slowUpload(w.url, w.keys.ops, QUERY, 31)))
  await until(async () => await inFlight(w) === 30)
  await victimSucceeds(t, w)
  t.notOk(eu.received.some((r) => r.method === 'POST'), 'no upload reached Defender before its body was complete')
  // The rest of one body arrives: only now is it forwarded, whole, with its length.
  uploads[0]!.socket.write('DeviceInfo | take 1"}')
  const done = await uploads[0]!.answer()
  t.equal(done.status, 200, done.headers)
  const post = eu.received.find((r) => r.method === 'POST')
  t.equal(post?.bodyBytes, 31)
  t.equal(post?.headers['content-length'], '31')
})
