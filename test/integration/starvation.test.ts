import t, { type Test } from 'tap'
import { call, startWorld, withKey, TENANT_A, TENANT_B, type TestWorld, type WorldOptions } from '../helper.js'
import { destroyPeers, idleDownload, slowUpload, until } from '../slow-peers.js'

// Regression (issue 13, item 3): one client with 300 slow request bodies held 257 of a region's 256
// pooled upstream connections and every other tenant on that region timed out. Here the pool is made
// small, a greedy client misbehaves in every way it can, and the victim's requests must all succeed.

const EXPORT = `/tenants/${TENANT_A}/api/machines/SoftwareInventoryByMachine?pageSize=200000`
const QUERY = `/tenants/${TENANT_A}/api/advancedqueries/run`
const ALERTS_B = `/tenants/${TENANT_B}/api/alerts?$top=1`

t.teardown(destroyPeers)

async function world (t: Test, server: Record<string, number>, connections: number, extra: WorldOptions = {}): Promise<TestWorld> {
  const w = await startWorld({
    sim: { defender: { ratePerMinute: 100_000 } },
    ...extra,
    config: (base) => ({
      ...base,
      server: { ...base.server, ...server },
      upstream: { ...base.upstream, connections, region: 'eu' },
      limits: { classes: { default: { perMinute: 1_000_000, perHour: 10_000_000 }, exportByMachine: { perMinute: 1_000_000, perHour: 10_000_000 } } }
    })
  })
  // A page of 200,000 records (~140 MB): far more than socket buffers hold, so an idle reader stalls it.
  w.sim.regions.eu!.setExportCount(TENANT_A, 200_000)
  t.teardown(async () => {
    destroyPeers()
    await w.close()
  })
  return w
}

async function refusals (w: TestWorld, reason: string): Promise<number> {
  const metric = w.gateway.metrics.registry.getSingleMetric('defender_gateway_overload_refusals_total')
  const values = (await metric?.get())?.values ?? []
  return values.find((v) => v.labels.reason === reason)?.value ?? 0
}

async function inFlight (w: TestWorld): Promise<number> {
  const metric = w.gateway.metrics.registry.getSingleMetric('defender_gateway_in_flight_requests')
  return (await metric?.get())?.values[0]?.value ?? 0
}

async function victimSucceeds (t: Test, w: TestWorld, times = 5): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await call(w.url, ALERTS_B, { headers: withKey(w.keys.siem) })
    t.equal(res.status, 200, `victim request ${i + 1} answered`)
  }
}

t.test('the reported attack, default settings: 300 slow uploads from one client cannot starve another', async (t) => {
  const w = await startWorld({ sim: { defender: { ratePerMinute: 100_000 } } })
  t.teardown(async () => {
    destroyPeers()
    await w.close()
  })
  const uploads = await Promise.all(Array.from({ length: 300 }, async () => await slowUpload(w.url, w.keys.ops, QUERY)))
  const answers = uploads.map(async (u) => await u.answer())
  let answered = 0
  for (const a of answers) a.then(() => { answered++ }, () => {})
  // The default cap admits 64 (their bodies wait at the gateway, idle until server.bodyIdleTimeoutMs);
  // the other 236 are refused at once. Whatever the machine's speed, 236 answers come first.
  await until(() => answered >= 236)
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

t.test('a body that stops arriving gets 408 in Defender\'s shape and its connection is closed', async (t) => {
  const w = await world(t, { bodyIdleTimeoutMs: 50 }, 1)
  const answers = await Promise.all(Array.from({ length: 5 }, async () => await (await slowUpload(w.url, w.keys.ops, QUERY)).answer()))
  for (const a of answers) {
    t.equal(a.status, 408)
    t.equal(a.code, 'RequestTimeout')
    t.match(a.headers, /connection: close/i)
  }
  t.equal(await refusals(w, 'body_idle'), 5)
  t.equal(w.sim.regions.eu!.received.filter((r) => r.url.startsWith('/api/')).length, 0, 'nothing forwarded')
  await victimSucceeds(t, w, 1)
})

t.test('the request deadline ends a body that trickles in forever (408) and a call Defender never answers (504)', async (t) => {
  const w = await world(t, { bodyIdleTimeoutMs: 600_000, requestDeadlineMs: 300 }, 1)
  const eu = w.sim.regions.eu!
  // One byte every 10 ms: never idle, never done.
  const trickle = await slowUpload(w.url, w.keys.ops, QUERY, 1_000_000, '{')
  const drip = setInterval(() => { trickle.socket.write(' ') }, 10)
  t.teardown(() => { clearInterval(drip) })
  const slow = await trickle.answer()
  clearInterval(drip)
  t.equal(slow.status, 408)
  t.equal(slow.code, 'RequestTimeout')
  // Defender hangs: the deadline answers 504 and aborts the call, giving the pool's only connection back.
  eu.setFault({ kind: 'hang' })
  const hung = await call(w.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(w.keys.ops) })
  t.equal(hung.status, 504)
  t.equal(JSON.parse(hung.text).error.code, 'UpstreamTimeout')
  eu.setFault(undefined)
  t.equal(await refusals(w, 'request_deadline'), 2)
  await victimSucceeds(t, w, 1)
})

t.test('callers that never read their answers are cut off, so the pool serves the others', async (t) => {
  const w = await world(t, { maxInFlightPerClient: 1000, responseWriteIdleMs: 100 }, 2)
  const eu = w.sim.regions.eu!
  // Both pooled connections carry an export nobody reads.
  const greedy = [await idleDownload(w.url, w.keys.ops, EXPORT), await idleDownload(w.url, w.keys.ops, EXPORT)]
  await until(() => eu.received.filter((r) => r.url.includes('SoftwareInventory')).length === 2)
  await victimSucceeds(t, w)
  await until(async () => await refusals(w, 'response_write_idle') === 2)
  await until(() => eu.streams.aborted === 2)
  t.pass('Defender saw both exports aborted')
  // A paused socket cannot see the gateway hang up: read what is buffered, then the close.
  for (const g of greedy) g.socket.resume()
  await Promise.all(greedy.map(async (g) => await g.closed))
  t.equal(eu.streams.completed, 0, 'neither export ran to the end')
})
