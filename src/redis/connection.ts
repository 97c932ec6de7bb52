import type { Cluster } from 'ioredis'
import type { Logger } from 'pino'
import type { RedisMetrics } from '../observability/metrics.js'
import type { RedisBreakerMetrics } from '../observability/redis-breaker-metrics.js'
import type { BreakerState } from './breaker.js'
import { createRedisClient, type RedisClient } from './client-factory.js'
import { FailureReporter } from './failure-report.js'
import { createGuard, type RedisOperation } from './guard.js'
import { watchPrimaries } from './primary-watch.js'
import { describeTopology, usesTls, type RedisTopology } from './topology.js'

export interface RedisConnectionOptions {
  readonly topology: RedisTopology
  /** TLS for sentinel and cluster nodes (a standalone url says it with rediss://) */
  readonly tls?: boolean | undefined
  /** ACL user; without it the password is the default user's */
  readonly username?: string | undefined
  readonly password?: { reveal (): string } | undefined
  /** extra CA for TLS (the config's trust.caFile) */
  readonly caPem?: string | undefined
  readonly keyPrefix: string
  readonly commandTimeoutMs: number
  readonly connectTimeoutMs: number
  /** mean wait between probes while the breaker is open */
  readonly probeIntervalMs: number
  readonly logger: Logger
  readonly metrics: RedisMetrics
  readonly breakerMetrics: RedisBreakerMetrics
}

export type { RedisOperation } from './guard.js'

/**
 * One Redis connection with a health flag and a circuit breaker. Everything that uses Redis goes
 * through `guard`, so a Redis outage turns into local answers (counted and logged), never into a
 * failed request, and a hung Redis costs one command timeout, not one per request.
 */
export interface SharedRedis {
  /** one node's (standalone, Sentinel's primary) or a cluster's client */
  readonly client: RedisClient
  /** prefix of every key this gateway writes */
  readonly prefix: string
  isUp (): boolean
  /** closed: calls go to Redis; open or probing: answered locally at once */
  breakerState (): BreakerState['kind']
  /** true once connected; false if not within `timeoutMs` (the gateway then starts on local state) */
  whenReady (timeoutMs: number): Promise<boolean>
  /** runs `op` on Redis, or answers `local()` when the breaker is open or the call fails; never throws */
  guard<T> (operation: RedisOperation, op: () => Promise<T>, local: () => T | Promise<T>): Promise<T>
  /** `listener` runs each time Redis is used again after the breaker was open (and at the first connection) */
  onShared (listener: () => void): void
  close (): Promise<void>
}

/** Reconnect delay: fast first retries, then every 2 s for as long as it takes. */
export function reconnectDelay (attempt: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(attempt, 6))
}

/** While Redis cannot be used, at most one warning per this long (ioredis retries every 2 s). */
const FAILURE_WARN_MS = 60_000

/** Connects (in the background) and tracks health through ioredis's connection events. */
export function createSharedRedis (options: RedisConnectionOptions): SharedRedis {
  const { logger, metrics } = options
  const client = createRedisClient({ ...options, tls: usesTls(options.topology, options.tls), retryStrategy: reconnectDelay })
  const where = describeTopology(options.topology)
  let up = false
  metrics.up.set(0)
  const guard = createGuard({
    ping: async () => await probe(client),
    probeIntervalMs: options.probeIntervalMs,
    logger,
    fallbacks: metrics.fallbacks,
    breakerMetrics: options.breakerMetrics
  })
  watchPrimaries(client, logger, options.breakerMetrics)
  const failures = new FailureReporter(FAILURE_WARN_MS)
  client.on('ready', function redisReady () {
    failures.ok()
    up = true
    metrics.up.set(1)
    guard.breaker.report({ type: 'connected' })
    logger.info({ redis: where }, 'redis connected; budgets and tokens are shared across replicas')
  })
  client.on('close', function redisClosed () {
    if (up) logger.warn({ redis: where }, 'redis connection lost; serving from local state until it returns')
    up = false
    metrics.up.set(0)
    guard.breaker.report({ type: 'disconnected' })
  })
  // ioredis emits an error per failed reconnect: a warning names the class at once and then at a bounded
  // rate (never the server's text); the details stay at debug.
  client.on('error', function redisError (err: Error) {
    logger.debug({ err: err.message }, 'redis error')
    const line = failures.note(err)
    if (line !== undefined) {
      logger.warn({ redis: where, ...line }, `redis unavailable (${line.failure}); serving from local state (budgets and tokens per process); readiness stays ready, by design; retrying`)
    }
  })

  return {
    client,
    prefix: options.keyPrefix,
    isUp: () => up,
    breakerState: () => guard.breaker.state().kind,
    async whenReady (timeoutMs) {
      if (up) return true
      return await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { client.off('ready', onReady); resolve(false) }, timeoutMs)
        function onReady (): void { clearTimeout(timer); resolve(true) }
        client.once('ready', onReady)
      })
    },
    guard: guard.run,
    onShared: guard.onShared,
    async close () {
      up = false
      metrics.up.set(0)
      guard.stop()
      client.disconnect(false)
    }
  }
}

/**
 * The breaker's probe. One node: a PING. A cluster: re-read the slot map and PING every primary in it,
 * so the breaker closes only once every slot has a live primary again (one dead shard fails its calls
 * while the others still answer PING).
 */
async function probe (client: RedisClient): Promise<unknown> {
  if (!client.isCluster) return await client.ping()
  const cluster = client as Cluster
  await new Promise<void>((resolve, reject) => { cluster.refreshSlotsCache((err) => { if (err === null || err === undefined) resolve(); else reject(err) }) })
  return await Promise.all(cluster.nodes('master').map(async (node) => await node.ping()))
}
