import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { LoadResult } from './load.js'

/** A fixed-rate run: requests start on an even schedule whatever the answers do (open loop). */
export interface PacedSpec {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly durationSec: number
  readonly rate: number
  /** keep-alive sockets at most; requests beyond wait in the agent's queue (and that wait is counted) */
  readonly connections: number
}

const REQUEST_TIMEOUT_MS = 10_000

type Send = typeof httpRequest

/** One request per socket at once; returns how many failed. */
async function prime (send: Send, url: URL, agent: HttpAgent, spec: PacedSpec): Promise<number> {
  const one = async (): Promise<number> => await new Promise((resolve) => {
    const req = send(url, { agent, headers: { ...spec.headers } }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode !== undefined && res.statusCode < 300 ? 0 : 1))
    })
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')))
    req.once('error', () => resolve(1))
    req.end()
  })
  const failed = await Promise.all(Array.from({ length: spec.connections }, one))
  return failed.reduce((a, b) => a + b, 0)
}

/**
 * Sends `rate` requests per second, evenly spaced (autocannon's overallRate sends each connection's share in
 * a burst at the start of every second, which adds its own queueing). Latency is measured from the scheduled
 * start, so time spent waiting for a free socket counts (no coordinated omission).
 */
export async function runPaced (spec: PacedSpec): Promise<LoadResult> {
  const url = new URL(spec.url)
  const tls = url.protocol === 'https:'
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: spec.connections, rejectUnauthorized: false })
    : new HttpAgent({ keepAlive: true, maxSockets: spec.connections })
  const send = tls ? httpsRequest : httpRequest
  const total = Math.max(1, Math.round(spec.rate * spec.durationSec))
  const interval = 1000 / spec.rate
  const latencies = new Float64Array(total)
  let ok = 0
  let non2xx = 0
  let errors = 0
  let finished = 0
  // Open the keep-alive sockets first, so TLS handshakes and a cold agent are not measured as latency.
  errors += await prime(send, url, agent, spec)
  const start = performance.now()
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, (spec.durationSec + 15) * 1000)
    const done = (): void => {
      if (++finished === total) { clearTimeout(deadline); resolve() }
    }
    const fire = (at: number): void => {
      const req = send(url, { agent, headers: { ...spec.headers } }, (res: IncomingMessage) => {
        res.resume()
        res.once('end', () => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) latencies[ok++] = performance.now() - at
          else non2xx++
          done()
        })
      })
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timeout')))
      req.once('error', () => { errors++; done() })
      req.end()
    }
    let sent = 0
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1)
      for (; sent < due; sent++) fire(start + sent * interval)
      if (sent < total) setTimeout(tick, 1)
    }
    tick()
  })
  const seconds = (performance.now() - start) / 1000
  agent.destroy()
  errors += total - finished
  const sorted = latencies.subarray(0, ok).sort()
  const pct = (p: number): number => ok === 0 ? Number.NaN : sorted[Math.min(ok - 1, Math.floor(p * ok))]!
  return { tool: 'paced', requests: ok + non2xx, non2xx, errors, durationSec: seconds, rps: (ok + non2xx) / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99) }
}
