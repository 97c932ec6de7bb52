import { realpathSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { startNginx, type NginxProxy } from './nginx.js'
import { readOptions, type BenchOptions } from './options.js'
import { readProcs } from './procstat.js'
import { startBenchWorld, type BenchWorld } from './world.js'

/** One big answer streamed through one proxy to a caller slower than the upstream. */
export interface BigAnswerRow {
  readonly target: 'gateway' | 'nginx'
  readonly coding: 'identity' | 'gzip'
  /** the answer's nominal size (uncompressed JSON) */
  readonly answerMb: number
  /** bytes the caller read (compressed for gzip) */
  readonly wireMb: number
  readonly seconds: number
  /** answer MB per second */
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
/** sizes of the export page the runs stream, and how many ~0.73 KB records make them */
const SIZES_MB = [32, 200]
const RECORDS_PER_MB = 1430
/** The caller takes at most this much per 1 ms timer tick (≤ ~60 MB/s): slower than the simulated Defender (~200 MB/s). */
const READ_PER_TICK = 64 * 1024

/**
 * Streams the software inventory export (32 and 200 MB pages, plain and gzip) from the simulated Defender
 * through the gateway and through nginx, each read by a caller a little slower than the upstream, while
 * the proxy's RSS is read after every MB; then a slow reader that hangs up half-way.
 */
export async function runBigResponse (world: BenchWorld, opts: BenchOptions): Promise<BigResponseResult> {
  const nginx = opts.nginx === undefined
    ? undefined
    : await startNginx({ binary: opts.nginx, upstreamUrl: world.bigAnswer.regionUrl, caFile: world.bigAnswer.caFile, token: world.bigAnswer.token, logFile: '/dev/null', cpus: opts.cpus, streaming: true })
  try {
    const rows: BigAnswerRow[] = []
    // A small page through each first, so the first row does not carry the proxy's warm-up.
    const warm = '/api/machines/SoftwareInventoryByMachine?pageSize=1000'
    await read(`${world.simTenantUrl}${warm}`, world.gatewayHeaders, () => {})
    if (nginx !== undefined) await read(`${nginx.url}${warm}`, {}, () => {})
    for (const coding of ['identity', 'gzip'] as const) {
      for (const answerMb of SIZES_MB) {
        rows.push(await streamOnce(world, 'gateway', coding, answerMb))
        if (nginx !== undefined) rows.push(await streamOnce(world, 'nginx', coding, answerMb, nginx))
      }
    }
    const path = `/api/machines/SoftwareInventoryByMachine?pageSize=${SIZES_MB[1]! * RECORDS_PER_MB}`
    await read(`${world.simTenantUrl}${path}`, world.gatewayHeaders, () => {}, 8 * MB).catch(() => 0)
    const alive = await read(`${world.simTenantUrl}/api/alerts?$top=1`, world.gatewayHeaders, () => {}).then(() => true, () => false)
    return { rows, aliveAfterDisconnect: alive }
  } finally {
    await nginx?.stop()
  }
}

async function streamOnce (world: BenchWorld, target: 'gateway' | 'nginx', coding: 'identity' | 'gzip', answerMb: number, nginx?: NginxProxy): Promise<BigAnswerRow> {
  const path = `/api/machines/SoftwareInventoryByMachine?pageSize=${answerMb * RECORDS_PER_MB}`
  const [url, headers, pids] = target === 'gateway'
    ? [`${world.simTenantUrl}${path}`, world.gatewayHeaders, () => [world.gatewayPid]]
    : [`${nginx!.url}${path}`, {}, () => nginx!.pids()]
  const rss = (): number => readProcs(pids()).rssKb / 1024
  await new Promise((resolve) => setTimeout(resolve, 300))
  const before = rss()
  let peak = before
  const started = performance.now()
  const bytes = await read(url, { ...headers, ...(coding === 'gzip' ? { 'accept-encoding': 'gzip' } : {}) }, () => { peak = Math.max(peak, rss()) })
  const seconds = (performance.now() - started) / 1000
  return { target, coding, answerMb, wireMb: bytes / MB, seconds, mbPerSecond: answerMb / seconds, rssBeforeMb: before, rssPeakMb: Math.max(peak, rss()) }
}

/** Reads an answer at most READ_PER_TICK per 1 ms tick, calling `sample` after every MB; hangs up after `limit` bytes. */
async function read (url: string, headers: Record<string, string>, sample: () => void, limit = Infinity): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) { res.resume(); reject(new Error(`big answer: ${String(res.statusCode)} from ${new URL(url).pathname}`)); return }
      let bytes = 0
      let sampled = 0
      const tick = (): void => {
        let taken = 0
        let chunk: Buffer | null
        while (taken < READ_PER_TICK && (chunk = res.read() as Buffer | null) !== null) taken += chunk.length
        bytes += taken
        if (bytes - sampled >= MB) { sampled = bytes; sample() }
        if (bytes >= limit) { req.destroy(); resolve(bytes); return }
        if (!res.readableEnded) setTimeout(tick, 1)
      }
      res.pause()
      res.once('end', () => { resolve(bytes) })
      // An answer cut off before its end (the proxy failed or hung up) fails the run.
      res.once('close', () => { if (!res.readableEnded && bytes < limit) reject(new Error(`big answer cut off after ${bytes} bytes`)) })
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
      `${r.rssBeforeMb.toFixed(0).padStart(11)} ${r.rssPeakMb.toFixed(0).padStart(9)} ${(r.rssPeakMb - r.rssBeforeMb).toFixed(1).padStart(7)}`)
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
