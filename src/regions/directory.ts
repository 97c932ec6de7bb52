import type { Logger } from 'pino'
import type { RegionMetrics } from '../observability/region-metrics.js'
import { INITIAL_HEALTH, isAvailable, recordFailure, recordPassive, recordSuccess, type RegionHealth } from './health.js'
import type { Probe } from './prober.js'
import { rankRegions, type Region } from './select.js'

/** The live view of the regions: what `auto` uses to choose, and what requests report back. */
export interface RegionDirectory {
  /** regions to try for a tenant, best first (never outside `allowed`) */
  rank (allowed: readonly string[] | undefined): Region[]
  /** a request got an answer below 500 after `upstreamMs` */
  succeeded (region: string, upstreamMs: number): void
  /** connect error, timeout or 5xx */
  failed (region: string, reason: string): void
  snapshot (): Array<{ name: string, url: string, rttMs: number | null, available: boolean, failures: number, downUntil: string | null }>
  /** first probe round (awaited before the gateway reports ready), then periodic probes */
  start (): Promise<void>
  close (): void
}

export interface DirectoryOptions {
  readonly table: readonly Region[]
  readonly configured: string
  readonly probe: Probe & { close (): void }
  readonly intervalMs: number
  readonly metrics: RegionMetrics
  readonly logger: Logger
  readonly now?: () => number
}

/** Region health and latency, fed by probes and by real traffic. */
export function createRegionDirectory (options: DirectoryOptions): RegionDirectory {
  const now = options.now ?? Date.now
  const health = new Map<string, RegionHealth>(options.table.map((r) => [r.name, INITIAL_HEALTH]))
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const update = (name: string, next: RegionHealth): void => {
    const before = health.get(name)
    if (before === undefined) return
    health.set(name, next)
    if (next.rttMs !== undefined) options.metrics.rtt.set({ region: name }, next.rttMs / 1000)
    const up = isAvailable(next, now())
    options.metrics.up.set({ region: name }, up ? 1 : 0)
    if (up !== isAvailable(before, now())) options.logger.warn({ region: name, up, failures: next.failures }, up ? 'region back in rotation' : 'region taken out of rotation')
  }
  const probeAll = async (): Promise<void> => {
    await Promise.all(options.table.map(async (region) => {
      const result = await options.probe(region)
      const h = health.get(region.name) as RegionHealth
      update(region.name, result.ok ? recordSuccess(h, result.rttMs) : recordFailure(h, now()))
    }))
  }
  /** the first round opens connections (TLS handshakes, cold code): its times say little about distance */
  const warmUp = async (): Promise<void> => {
    await Promise.all(options.table.map(async (region) => {
      const result = await options.probe(region)
      if (!result.ok) update(region.name, recordFailure(health.get(region.name) as RegionHealth, now()))
    }))
  }
  const schedule = (): void => {
    if (closed) return
    // Jitter keeps many replicas from probing in lock step.
    timer = setTimeout(() => { probeAll().finally(schedule).catch(() => {}) }, options.intervalMs * (0.8 + 0.4 * Math.random()))
    timer.unref()
  }
  for (const r of options.table) options.metrics.up.set({ region: r.name }, 1)

  return {
    rank: (allowed) => rankRegions(options.table, health, options.configured, allowed, now()),
    succeeded (region, upstreamMs) {
      const h = health.get(region) ?? INITIAL_HEALTH
      const next = recordPassive(h, upstreamMs)
      if (next !== h) update(region, next)
    },
    failed (region, reason) {
      const h = health.get(region)
      if (h === undefined) return
      options.logger.warn({ region, reason }, 'region failure')
      update(region, recordFailure(h, now()))
    },
    snapshot: () => options.table.map((r) => {
      const h = health.get(r.name) as RegionHealth
      return { name: r.name, url: r.url, rttMs: h.rttMs === undefined ? null : Math.round(h.rttMs * 100) / 100, available: isAvailable(h, now()), failures: h.failures, downUntil: h.downUntil > now() ? new Date(h.downUntil).toISOString() : null }
    }),
    async start () {
      await warmUp()
      await probeAll()
      schedule()
    },
    close () {
      closed = true
      clearTimeout(timer)
      options.probe.close()
    }
  }
}
