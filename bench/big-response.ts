import { request } from 'node:http'
import { readProc } from './procstat.js'
import { EXPORT_RECORDS, REQUEST_PATH, type BenchWorld } from './world.js'

/** What streaming one very large answer through the gateway cost it in memory. */
export interface BigResponseResult {
  readonly bytes: number
  readonly seconds: number
  readonly rssBeforeMb: number
  readonly rssPeakMb: number
  readonly growthMb: number
  /** a reader taking 64 KiB every 50 ms: how far the gateway's RSS grew while it lagged */
  readonly slowReaderGrowthMb: number
  /** after the slow reader went away, the gateway still answered */
  readonly aliveAfterDisconnect: boolean
}

const MB = 1024 * 1024

/**
 * Streams the whole software inventory export (~210 MB, one page) through the gateway while sampling
 * the gateway process's RSS every 20 ms; then a slow reader that disconnects half-way.
 */
export async function runBigResponse (world: BenchWorld): Promise<BigResponseResult> {
  const gateway = { url: `${world.simTenantUrl}${REQUEST_PATH}`, headers: world.gatewayHeaders }
  const url = new URL(`${world.simTenantUrl}/api/machines/SoftwareInventoryByMachine?pageSize=${EXPORT_RECORDS}`)
  const rss = (): number => readProc(world.gatewayPid).rssKb / 1024
  await new Promise((resolve) => setTimeout(resolve, 500))
  const before = rss()
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, rss()) }, 20)
  const started = performance.now()
  const bytes = await fetchAll(url, gateway.headers, 0)
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)

  await new Promise((resolve) => setTimeout(resolve, 500))
  const slowBefore = rss()
  let slowPeak = slowBefore
  const slowSampler = setInterval(() => { slowPeak = Math.max(slowPeak, rss()) }, 20)
  await fetchAll(url, gateway.headers, 8 * MB)
  clearInterval(slowSampler)
  const alive = await new Promise<boolean>((resolve) => {
    request(gateway.url, { headers: gateway.headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200)) })
      .on('error', () => resolve(false)).end()
  })
  return { bytes, seconds, rssBeforeMb: before, rssPeakMb: peak, growthMb: peak - before, slowReaderGrowthMb: slowPeak - slowBefore, aliveAfterDisconnect: alive }
}

/** Reads a response to the end, or slowly (64 KiB per 50 ms) and hangs up after `slowLimit` bytes. */
async function fetchAll (url: URL, headers: Record<string, string>, slowLimit: number): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`big response answered ${res.statusCode ?? 0}`)); res.resume(); return }
      let bytes = 0
      if (slowLimit === 0) {
        res.on('data', (c: Buffer) => { bytes += c.length })
        res.on('end', () => resolve(bytes))
        return
      }
      res.pause()
      const timer = setInterval(() => {
        let chunk: Buffer | null
        let taken = 0
        while (taken < 64 * 1024 && (chunk = res.read() as Buffer | null) !== null) { taken += chunk.length }
        bytes += taken
        if (bytes >= slowLimit) { clearInterval(timer); req.destroy(); resolve(bytes) }
      }, 50)
      res.on('end', () => { clearInterval(timer); resolve(bytes) })
    })
    req.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'ECONNRESET') reject(err) })
    req.end()
  })
}
