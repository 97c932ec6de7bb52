import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load.js'
import { createRateBudgets } from '../limits/create-budgets.js'
import type { RateBudgets } from '../limits/types.js'
import { createRedisMetrics, type GatewayMetrics } from '../observability/metrics.js'
import { createRedisBreakerMetrics } from '../observability/redis-breaker-metrics.js'
import type { SharedTokenStore } from '../tokens/types.js'
import { createRedisBudgetStore } from './budget-store.js'
import { createSharedRedis, type SharedRedis } from './connection.js'
import { createRedisTokenStore } from './token-store.js'
import { topologyOf } from './topology.js'

/** What replicas share (or, without redis.url, what each keeps to itself). */
export interface SharedState {
  readonly budgets: RateBudgets
  /** the second-level token cache; undefined without redis */
  readonly tokenStore: SharedTokenStore | undefined
  /** undefined without redis */
  readonly redis: SharedRedis | undefined
  /** waits up to `timeoutMs` for Redis (true at once without it), so a cold start shares from the first request */
  whenReady (timeoutMs: number): Promise<boolean>
  close (): Promise<void>
}

/** Builds budgets and the shared token store from config: one entry point for app.ts to wire. */
export function createSharedState (loaded: LoadedConfig, deps: { logger: Logger, metrics: GatewayMetrics, workers?: number }): SharedState {
  const { config, secrets, files } = loaded
  const redisConfig = config.redis
  const redis = redisConfig === undefined
    ? undefined
    : createSharedRedis({
      topology: topologyOf(redisConfig, secrets.redisSentinelPassword),
      tls: redisConfig.tls,
      username: redisConfig.username,
      password: secrets.redisPassword,
      caPem: files.caPem,
      keyPrefix: redisConfig.keyPrefix,
      commandTimeoutMs: redisConfig.commandTimeoutMs,
      connectTimeoutMs: redisConfig.connectTimeoutMs,
      probeIntervalMs: redisConfig.probeIntervalMs,
      logger: deps.logger.child({ component: 'redis' }),
      metrics: createRedisMetrics(deps.metrics.registry),
      breakerMetrics: createRedisBreakerMetrics(deps.metrics.registry)
    })
  const budgets = createRateBudgets(config.limits, { store: redis === undefined ? undefined : createRedisBudgetStore(redis), metrics: deps.metrics, workers: deps.workers })
  // load.ts refuses redis.url without a token key, so both are present together.
  const tokenStore = redis === undefined ? undefined : createRedisTokenStore({ redis, keyMaterial: (secrets.redisTokenKey as { reveal (): string }).reveal() })
  return {
    budgets,
    tokenStore,
    redis,
    async whenReady (timeoutMs) {
      return redis === undefined ? true : await redis.whenReady(timeoutMs)
    },
    async close () {
      await budgets.close()
      await redis?.close()
    }
  }
}
