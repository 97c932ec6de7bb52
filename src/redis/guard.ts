import type { Logger } from 'pino'
import type { Counter } from 'prom-client'
import type { RedisBreakerMetrics } from '../observability/redis-breaker-metrics.js'
import { createBreaker, type Breaker } from './breaker-driver.js'
import { reportBreaker } from './breaker-report.js'

/** Label values of defender_gateway_redis_fallbacks_total (and, with 'probe', of the command timeouts). */
export type RedisOperation = 'take' | 'hold' | 'record' | 'token_get' | 'token_set' | 'lock' | 'unlock'

export interface GuardOptions {
  /** one PING on the connection (bounded by its command timeout) */
  readonly ping: () => Promise<unknown>
  readonly probeIntervalMs: number
  readonly logger: Logger
  readonly fallbacks: Counter<'operation'>
  readonly breakerMetrics: RedisBreakerMetrics
}

/** The breaker and the one way every Redis call goes through it. */
export interface Guard {
  /** told of connection events by connection.ts */
  readonly breaker: Breaker
  /** runs `op` on Redis, or answers `local()` when the breaker is open or the call fails; never throws */
  run<T> (operation: RedisOperation, op: () => Promise<T>, local: () => T | Promise<T>): Promise<T>
  /** `listener` runs each time the breaker closes (Redis used again) */
  onShared (listener: () => void): void
  stop (): void
}

/** ioredis rejects a call abandoned after `commandTimeout` with this message (and no error class). */
function isTimeout (err: unknown): boolean {
  return err instanceof Error && err.message === 'Command timed out'
}

/**
 * Calls go to Redis only while the breaker is closed: the first failure or timeout opens it, and from
 * then on every call is answered locally at once until a background probe gets an answer.
 */
export function createGuard (options: GuardOptions): Guard {
  const { logger, breakerMetrics } = options

  async function counted<T> (operation: RedisOperation | 'probe', op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      if (isTimeout(err)) breakerMetrics.commandTimeouts.inc({ operation })
      throw err
    }
  }

  const report = reportBreaker(logger, breakerMetrics)
  const shared = new Set<() => void>()
  const breaker = createBreaker({
    intervalMs: options.probeIntervalMs,
    probe: async () => await counted('probe', options.ping),
    onChange (from, to, event) {
      report.onChange(from, to, event)
      if (to.kind === 'closed') for (const listener of shared) listener()
    }
  })

  return {
    breaker,
    async run (operation, op, local) {
      const generation = breaker.admit()
      if (generation !== undefined) {
        try {
          return await counted(operation, op)
        } catch (err) {
          const reason = isTimeout(err) ? 'timeout' : 'error'
          if (breaker.report({ type: 'failure', generation, reason })) {
            logger.warn({ operation, reason, err: (err as Error).message }, 'redis call failed; serving from local state until a probe answers')
          }
        }
      }
      options.fallbacks.inc({ operation })
      return await local()
    },
    onShared (listener) { shared.add(listener) },
    stop () {
      breaker.stop()
      report.stop()
    }
  }
}
