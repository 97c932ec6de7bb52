import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RedisMetrics } from '../observability/metrics.js'
import type { RedisBreakerMetrics } from '../observability/redis-breaker-metrics.js'
import { outboundTlsContext } from '../trust.js'
import type { BreakerState } from './breaker.js'
import { createGuard, type RedisOperation } from './guard.js'

export interface RedisConnectionOptions {
  readonly url: string
  readonly password?: { reveal (): string } | undefined
  /** extra CA for rediss:// (the config's trust.caFile) */
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

// Loaded on first use: a gateway without redis.url never pays ioredis's ~6 MB of memory.
const loadRedis = (): typeof Redis => (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis

export type { RedisOperation } from './guard.js'

/**
 * One Redis connection with a health flag and a circuit breaker. Everything that uses Redis goes
 * through `guard`, so a Redis outage turns into local answers (counted and logged), never into a
 * failed request, and a hung Redis costs one command timeout, not one per request.
 */
export interface SharedRedis {
  readonly client: Redis
  /** prefix of every key this gateway writes */
  readonly prefix: string
  isUp (): boolean
  /** closed: calls go to Redis; open or probing: answered locally at once */
  breakerState (): BreakerState['kind']
  /** true once connected; false if not within `timeoutMs` (the gateway then starts on local state) */
  whenReady (timeoutMs: number): Promise<boolean>
  /** runs `op` on Redis, or answers `local()` when the breaker is open or the call fails; never throws */
  guard<T> (operation: RedisOperation, op: () => Promise<T>, local: () => T | Promise<T>): Promise<T>
  close (): Promise<void>
}

/** Reconnect delay: fast first retries, then every 2 s for as long as it takes. */
export function reconnectDelay (attempt: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(attempt, 6))
}

/** Connects (in the background) and tracks health through ioredis's connection events. */
export function createSharedRedis (options: RedisConnectionOptions): SharedRedis {
  const { logger, metrics } = options
  const client = new (loadRedis())(options.url, {
    password: options.password?.reveal(),
    // Fail at once while disconnected instead of queueing: the caller has a local answer.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: reconnectDelay,
    // trust.caFile adds a CA to the system roots (as for Entra ID and Defender), never replaces them.
    ...(options.url.startsWith('rediss:') ? { tls: { secureContext: outboundTlsContext(options.caPem) } } : {})
  })
  let up = false
  metrics.up.set(0)
  const guard = createGuard({
    ping: async () => await client.ping(),
    probeIntervalMs: options.probeIntervalMs,
    logger,
    fallbacks: metrics.fallbacks,
    breakerMetrics: options.breakerMetrics
  })
  client.on('ready', function redisReady () {
    up = true
    metrics.up.set(1)
    guard.breaker.report({ type: 'connected' })
    logger.info({ redis: redactedUrl(options.url) }, 'redis connected; budgets and tokens are shared across replicas')
  })
  client.on('close', function redisClosed () {
    if (up) logger.warn({ redis: redactedUrl(options.url) }, 'redis connection lost; serving from local state until it returns')
    up = false
    metrics.up.set(0)
    guard.breaker.report({ type: 'disconnected' })
  })
  // ioredis emits an error per failed reconnect; the close/ready lines already say what matters.
  client.on('error', function redisError (err: Error) {
    logger.debug({ err: err.message }, 'redis error')
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
    async close () {
      up = false
      metrics.up.set(0)
      guard.stop()
      client.disconnect(false)
    }
  }
}

/** The URL without credentials, for logs. */
function redactedUrl (url: string): string {
  const parsed = new URL(url)
  parsed.username = ''
  parsed.password = ''
  return parsed.toString()
}
