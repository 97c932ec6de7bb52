import t, { type Test } from 'tap'
import { keyHash } from '../../src/callers/authenticate.js'
import { bigAnswer, readPaced, rssMb, type ReadResult } from '../big-answers-helper.js'
import { call, CLIENT_SECRET, TENANT_A } from '../helper.js'
import { startGatewayProcess, startOpsWorld, type GatewayProcess, type OpsWorld } from '../operations-helper.js'
import { destroyPeers, idleDownload, until } from '../slow-peers.js'

// Regression (issue 16): a gzip export read by a caller a little slower than Defender sends it. undici's
// parser, resuming after each pause, copied the socket's whole buffer, and that buffer grew: 8 MB took
// 0.8 s, 32 MB 22 s, and the gateway's RSS grew by 170 MB. The gateway runs in its own process so that its
// RSS can be read from /proc. Nothing here compares against a fixed time: only ratios between sizes.

const MB = 1024 * 1024
/** time per MB of the 128 MB answer may be at most this many times that of the 8 MB one */
const TIME_RATIO = 4
/** RSS growth of the gateway while streaming, against its RSS before */
const RSS_GROWTH_MB = 64
const IDLE_MS = 5000
const ALERTS = `/tenants/${TENANT_A}/api/alerts`
const EXPORT = `/tenants/${TENANT_A}/api/machines/SoftwareInventoryByMachine?pageSize=200000`

let w: OpsWorld
let gw: GatewayProcess

t.before(async () => {
  w = await startOpsWorld()
  const file = await w.writeConfig({
    server: { host: '127.0.0.1', port: 0, responseWriteIdleMs: IDLE_MS },
    // One pooled connection: a request after a cut-off proves the upstream socket was given back.
    upstream: { regions: { eu: w.sim.regions.eu!.url }, connections: 1, probeIntervalMs: 600_000 },
    tenants: [{ id: TENANT_A, name: 'contoso', permissions: ['Alert.Read.All', 'Software.Read.All'] }],
    clients: [{ name: 'siem', keySha256: keyHash(w.key), tenants: ['*'], permissions: ['Alert.Read.All', 'Software.Read.All'] }],
    limits: { classes: { default: { perMinute: 1_000_000, perHour: 10_000_000 }, exportByMachine: { perMinute: 1_000_000, perHour: 10_000_000 } } }
  })
  gw = await startGatewayProcess(file, { GW_SECRET: CLIENT_SECRET })
})

t.teardown(async () => {
  destroyPeers()
  await gw?.stop()
  await w?.close()
})

/** Serves one gzip answer of `mb` MB (16 KiB per write, as fast as the socket takes them) and reads it through the gateway. */
async function stream (t: Test, mb: number, extra: { pauseAt?: number, pauseMs?: number, giveUpMs?: number, baselineMb?: number } = {}): Promise<ReadResult> {
  const eu = w.sim.regions.eu!
  const answer = bigAnswer(mb, eu.url, `${gw.url}/tenants/${TENANT_A}`)
  eu.setFault({ kind: 'answer', headers: { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' }, body: answer.gzipped, writeBytes: 16 * 1024 })
  // Growth is counted from the baseline given (RSS before the first measured run), so it cannot add up unseen run by run.
  const before = extra.baselineMb ?? rssMb(gw.child.pid!)
  const result = await readPaced(`${gw.url}${ALERTS}`, { headers: { 'x-api-key': w.key }, pid: gw.child.pid!, ...extra, started: () => { eu.setFault(undefined) } })
  eu.setFault(undefined)
  t.equal(result.status, 200, `${mb} MB: answered`)
  if (!result.complete) return result
  t.equal(result.sha256, answer.expectedSha256, `${mb} MB: every byte arrived, the nextLink rewritten`)
  const growth = result.peakRssMb - before
  t.ok(growth < RSS_GROWTH_MB, `${mb} MB: gateway RSS grew by ${growth.toFixed(1)} MB (under ${RSS_GROWTH_MB})`)
  t.comment(`${mb} MB (${(answer.gzipped.length / MB).toFixed(1)} MB gzip): ${result.seconds.toFixed(2)} s, ${(answer.bytes / MB / result.seconds).toFixed(1)} MB/s inflated, RSS ${before.toFixed(0)} (baseline) -> peak ${result.peakRssMb.toFixed(0)} MB`)
  return result
}

const perMb = (r: ReadResult, mb: number): number => r.seconds / mb

t.test('8, 32 and 128 MB stream in time linear in their size, with bounded memory', async (t) => {
  await stream(t, 1)
  const baselineMb = rssMb(gw.child.pid!)
  // The best of two small runs: the reference the big ones are held to.
  const small = Math.min(perMb(await stream(t, 8, { baselineMb }), 8), perMb(await stream(t, 8, { baselineMb }), 8))
  for (const mb of [32, 128]) {
    // A run that passes the allowed ratio is stopped there instead of taking minutes.
    const result = await stream(t, mb, { baselineMb, giveUpMs: Math.max(small * mb * TIME_RATIO * 1000, 5000) })
    t.ok(result.complete, `${mb} MB arrived within ${TIME_RATIO}x the time per MB of 8 MB`)
    if (result.complete) t.ok(perMb(result, mb) <= small * TIME_RATIO, `${mb} MB: ${(perMb(result, mb) * 1000).toFixed(0)} ms/MB against ${(small * 1000).toFixed(0)} ms/MB at 8 MB`)
  }
})

t.test('a caller that stops reading for a while and then goes on gets the whole answer', async (t) => {
  const result = await stream(t, 32, { pauseAt: 4 * MB, pauseMs: IDLE_MS / 5 })
  t.ok(result.complete, 'read to the end')
})

t.test('a caller that never reads is cut off by the write-idle guard and Defender\'s connection is given back', async (t) => {
  const eu = w.sim.regions.eu!
  eu.setExportCount(TENANT_A, 200_000)
  const aborted = eu.streams.aborted
  const greedy = await idleDownload(gw.url, w.key, EXPORT)
  await until(() => eu.streams.aborted === aborted + 1)
  t.pass('Defender saw the export aborted')
  const metrics = (await call(gw.adminUrl, '/metrics')).text
  t.match(metrics, /defender_gateway_overload_refusals_total\{reason="response_write_idle"\} 1\b/)
  greedy.socket.resume()
  await greedy.closed
  // The pool has one connection: this answer needs the one the idle caller held.
  const next = await call(gw.url, `${ALERTS}?$top=1`, { headers: { 'x-api-key': w.key } })
  t.equal(next.status, 200, 'the next request is served')
})
