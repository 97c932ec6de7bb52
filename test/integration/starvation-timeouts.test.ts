import t from 'tap'
import { call, withKey, TENANT_A } from '../helper.js'
import { destroyPeers, idleDownload, slowUpload, until } from '../slow-peers.js'
import { EXPORT, QUERY, refusals, victimSucceeds, world } from '../starvation-helper.js'

// Regression (issue 13, item 3): one client with 300 slow request bodies held 257 of a region's 256
// pooled upstream connections and every other tenant on that region timed out. Here the pool is made
// small, a greedy client misbehaves in every way it can, and the victim's requests must all succeed.

t.teardown(destroyPeers)

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

t.test('a reader that keeps taking a few bytes (never idle) is cut off at the request deadline', async (t) => {
  const w = await world(t, { responseWriteIdleMs: 600_000, requestDeadlineMs: 500 }, 1)
  const eu = w.sim.regions.eu!
  const reader = await idleDownload(w.url, w.keys.ops, EXPORT)
  // At most one socket read every 5 ms (≤ 64 KiB each, ≤ 13 MB/s): a 140 MB page cannot end in time.
  const tick = setInterval(() => {
    reader.socket.resume()
    reader.socket.once('data', () => reader.socket.pause())
  }, 5)
  t.teardown(() => { clearInterval(tick) })
  await until(async () => await refusals(w, 'request_deadline') === 1)
  clearInterval(tick)
  reader.socket.resume()
  // Usually the answer was streaming and is cut off; on a machine slow enough that the deadline came
  // before Defender's headers, the answer is a 504. Either way the request ended at its deadline.
  const end = await reader.answer()
  t.ok(end.status === 200 || end.status === 504, `ended with ${end.status}`)
  t.equal(eu.streams.completed, 0, 'the export never ran to its end')
  // The pool's only connection is free again.
  await victimSucceeds(t, w, 1)
})
