import { realpathSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { startNginx, type NginxProxy } from './nginx.js'
import { readOptions, type BenchOptions } from './options.js'
import { readProcs } from './procstat.js'
import type { BigAnswerAsk, BigAnswerReady } from './upstream-process.js'
import { startBenchWorld, type BenchWorld } from './world.js'

/** One big answer streamed through one proxy to a caller slower than the upstream. */
export interface BigAnswerRow {
  readonly target: 'gateway' | 'nginx'
  readonly coding: 'identity' | 'gzip'
  /** the answer's size (uncompressed JSON) */
  readonly answerMb: number
  /** bytes the caller read (compressed for gzip) */
  readonly wireMb: number
  /** false when the row was given up after BENCH_BIG_GIVE_UP seconds */
  readonly complete: boolean
  readonly seconds: number
  /** answer MB per second (of the part that arrived, for a row given up) */
  readonly mbPerSecond: number
  readonly rssBeforeMb: number
  readonly rssPeakMb: number
}

export interface BigResponseResult {
  readonly rows: readonly BigAnswerRow[]
  /** after a slow reader hung up half-way, the gateway still answered */
  readonly aliveAfterDisconnect: boolean
}

const MB = 1024 * 1024
const SIZES_MB = [32, 200]
/** The caller takes at most this much per 1 ms timer tick (≤ 16 MB/s, ~12 with timer slack): slower than the upstream (~40 MB/s over TLS on loopback here). */
const READ_PER_TICK = 16 * 1024
/** a row still streaming after this many seconds is cut off and printed as such (the slowdown is quadratic) */
const GIVE_UP_S = Number(process.env.BENCH_BIG_GIVE_UP ?? 300)
/** building a 200 MB page and gzipping it takes the upstream process a few seconds */
const BUILD_TIMEOUT_MS = 120_000

/**
 * Streams a big answer (32 and 200 MB, plain and gzip that compresses only ~4:3, sent 16 KiB per write as
 * fast as loopback allows) through the gateway and through nginx, each read by a caller slower than the
 * upstream, while the proxy's RSS is read after every MB; then a slow reader that hangs up half-way.
 */
export async function runBigResponse (world: BenchWorld, opts: BenchOptions): Promise<BigResponseResult> {
  const nginx = opts.nginx === undefined
    ? undefined
    : await startNginx({ binary: opts.nginx, upstreamUrl: world.bigAnswer.regionUrl, caFile: world.bigAnswer.caFile, token: world.bigAnswer.token, logFile: '/dev/null', cpus: opts.cpus, streaming: true })
  try {
    const rows: BigAnswerRow[] = []
    // A small answer through each first, so the first row does not carry the proxy's warm-up.
    await prepare(world, { mb: 1, coding: 'gzip' })
    await read(world, `${world.simTenantUrl}/api/alerts`, world.gatewayHeaders, () => {}, { armed: true })
    if (nginx !== undefined) await read(world, `${nginx.url}/api/alerts`, {}, () => {}, { armed: true })
    for (const coding of ['identity', 'gzip'] as const) {
      for (const answerMb of SIZES_MB) {
        const ready = await prepare(world, { mb: answerMb, coding })
        rows.push(await streamOnce(world, ready, 'gateway', coding, answerMb))
        if (nginx !== undefined) rows.push(await streamOnce(world, ready, 'nginx', coding, answerMb, nginx))
      }
    }
    // Hang up after 8 MB of the last answer (200 MB gzip); then an ordinary page must still come through.
    await read(world, `${world.simTenantUrl}/api/alerts`, world.gatewayHeaders, () => {}, { armed: true, limit: 8 * MB }).catch(() => undefined)
    const alive = await read(world, `${world.simTenantUrl}/api/alerts?$top=1`, world.gatewayHeaders, () => {}).then(() => true, () => false)
    return { rows, aliveAfterDisconnect: alive }
  } finally {
    await world.upstreamQuery('big-answer-off').catch(() => undefined)
    await nginx?.stop()
  }
}

/** Has the upstream build the answer that the next armed reads get. */
async function prepare (world: BenchWorld, ask: BigAnswerAsk): Promise<BigAnswerReady> {
  return await world.upstreamQuery<BigAnswerReady>('big-answer', { ...ask }, BUILD_TIMEOUT_MS)
}

async function streamOnce (world: BenchWorld, ready: BigAnswerReady, target: 'gateway' | 'nginx', coding: 'identity' | 'gzip', answerMb: number, nginx?: NginxProxy): Promise<BigAnswerRow> {
  const [url, headers, pids] = target === 'gateway'
    ? [`${world.simTenantUrl}/api/alerts`, world.gatewayHeaders, () => [world.gatewayPid]]
    : [`${nginx!.url}/api/alerts`, {}, () => nginx!.pids()]
  const rss = (): number => readProcs(pids()).rssKb / 1024
  await new Promise((resolve) => setTimeout(resolve, 300))
  const before = rss()
  let peak = before
  const started = performance.now()
  const got = await read(world, url, { ...headers, ...(coding === 'gzip' ? { 'accept-encoding': 'gzip' } : {}) }, () => { peak = Math.max(peak, rss()) }, { armed: true, giveUpMs: GIVE_UP_S * 1000 })
  const seconds = (performance.now() - started) / 1000
  // A row given up: the share of the answer that arrived, judged by the upstream's wire size.
  const arrivedMb = got.complete ? answerMb : answerMb * Math.min(1, got.bytes / ready.wireBytes)
  return { target, coding, answerMb, wireMb: got.bytes / MB, complete: got.complete, seconds, mbPerSecond: arrivedMb / seconds, rssBeforeMb: before, rssPeakMb: Math.max(peak, rss()) }
}

interface ReadLimits {
  /** the upstream sends the big answer to this request (armed before it, disarmed once its headers arrive, so probes never get it) */
  readonly armed?: boolean
  readonly limit?: number
  readonly giveUpMs?: number
}

/** Reads an answer at most READ_PER_TICK per 1 ms tick, calling `sample` after every MB; hangs up after `limit` bytes or `giveUpMs`. */
async function read (world: BenchWorld, url: string, headers: Record<string, string>, sample: () => void, { armed = false, limit = Infinity, giveUpMs = Infinity }: ReadLimits = {}): Promise<{ bytes: number, complete: boolean }> {
  if (armed) await world.upstreamQuery('big-answer-on')
  const start = performance.now()
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res: IncomingMessage) => {
      if (armed) world.upstreamQuery('big-answer-off').catch(() => undefined)
      if (res.statusCode !== 200) { res.resume(); reject(new Error(`big answer: ${String(res.statusCode)} from ${new URL(url).pathname}`)); return }
      let bytes = 0
      let sampled = 0
      const tick = (): void => {
        let taken = 0
        // read(n) with n at most what is buffered: a read without a size would take the whole buffer at once.
        while (taken < READ_PER_TICK && res.readableLength > 0) taken += (res.read(Math.min(READ_PER_TICK - taken, res.readableLength)) as Buffer).length
        if (res.readableLength === 0) res.read()
        bytes += taken
        if (bytes - sampled >= MB) { sampled = bytes; sample() }
        if (bytes >= limit || performance.now() - start > giveUpMs) { req.destroy(); resolve({ bytes, complete: false }); return }
        if (!res.readableEnded) setTimeout(tick, 1)
      }
      res.pause()
      res.once('end', () => { resolve({ bytes, complete: true }) })
      // An answer cut off before its end (the proxy failed or hung up) fails the run.
      res.once('close', () => { if (!res.readableEnded && bytes < limit && performance.now() - start <= giveUpMs) reject(new Error(`big answer cut off after ${bytes} bytes`)) })
      tick()
    })
    req.on('error', reject)
    req.end()
  })
}

/** The table `npm run bench` prints. */
export function bigResponseTable (result: BigResponseResult): string {
  const lines = ['target   coding    answer MB  wire MB  seconds   MB/s   RSS before  RSS peak  growth']
  for (const r of result.rows) {
    lines.push(`${r.target.padEnd(8)} ${r.coding.padEnd(9)} ${String(r.answerMb).padStart(9)} ${r.wireMb.toFixed(1).padStart(8)} ${r.seconds.toFixed(2).padStart(8)} ${r.mbPerSecond.toFixed(1).padStart(6)} ` +
      `${r.rssBeforeMb.toFixed(0).padStart(11)} ${r.rssPeakMb.toFixed(0).padStart(9)} ${(r.rssPeakMb - r.rssBeforeMb).toFixed(1).padStart(7)}` +
      (r.complete ? '' : `  given up after ${GIVE_UP_S} s`))
  }
  lines.push(`gateway answers after a slow reader hung up half-way: ${result.aliveAfterDisconnect ? 'yes' : 'NO'}`)
  return lines.join('\n')
}

function runDirectly (): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

// Alone: `npx tsx bench/big-response.ts` starts the bench world and runs only this part.
if (runDirectly()) {
  const opts = readOptions()
  const world = await startBenchWorld(opts, '/dev/null')
  process.once('SIGINT', () => { world.close().finally(() => process.exit(130)) })
  try {
    process.stdout.write(`${bigResponseTable(await runBigResponse(world, opts))}\n`)
  } finally {
    await world.close()
  }
}
