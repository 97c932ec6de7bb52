import type { Cluster, Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RedisBreakerMetrics } from '../observability/redis-breaker-metrics.js'
import type { RedisClient } from './client-factory.js'
import { failoversBetween } from './topology.js'

/** The primaries a connected client writes to, as 'host:port'. */
export function currentPrimaries (client: RedisClient): Set<string> {
  if (client.isCluster) {
    return new Set((client as Cluster).nodes('master').map((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}`))
  }
  const stream = (client as Redis).stream as { remoteAddress?: string, remotePort?: number } | undefined
  return stream?.remoteAddress === undefined ? new Set() : new Set([`${stream.remoteAddress}:${stream.remotePort ?? ''}`])
}

/**
 * Shows which node is primary (a gauge per primary) and counts failovers: on each (re)connection, and
 * for a cluster on each slot map refresh, the primaries are compared with the last ones seen.
 */
export function watchPrimaries (client: RedisClient, logger: Logger, metrics: RedisBreakerMetrics): void {
  let known = new Set<string>()
  function observe (): void {
    const now = currentPrimaries(client)
    if (now.size === 0 || (now.size === known.size && [...now].every((n) => known.has(n)))) return
    const failovers = failoversBetween(known, now)
    if (failovers > 0) {
      metrics.failovers.inc(failovers)
      logger.warn({ from: [...known].sort(), to: [...now].sort() }, 'redis primary changed (failover); budgets and tokens continue on the new primary')
    }
    metrics.primary.reset()
    for (const node of now) metrics.primary.set({ node }, 1)
    known = now
  }
  client.on('ready', observe)
  if (client.isCluster) client.on('refresh', observe)
}
