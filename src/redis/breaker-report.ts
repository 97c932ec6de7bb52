import type { Logger } from 'pino'
import type { RedisBreakerMetrics } from '../observability/redis-breaker-metrics.js'
import { STATE_VALUE, type BreakerEvent, type BreakerState } from './breaker.js'

/** What the breaker's transitions show: the state gauge, opens, time in fallback, and a log line each. */
export interface BreakerReport {
  onChange (from: BreakerState, to: BreakerState, event: BreakerEvent): void
  /** counts the time in fallback so far and stops updating the metrics */
  stop (): void
}

/**
 * Metrics and logs per transition, never per request. The breaker starts open (not yet connected),
 * so time in fallback counts from creation until the first connection.
 */
export function reportBreaker (logger: Logger, metrics: RedisBreakerMetrics, now: () => number = () => performance.now()): BreakerReport {
  let openSince: number | undefined = now()
  metrics.state.set(STATE_VALUE.open)
  function settle (): void {
    if (openSince === undefined) return
    const at = now()
    metrics.fallbackSeconds.inc(Math.max(0, at - openSince) / 1000)
    openSince = at
  }
  const unregister = metrics.onScrape(settle)
  return {
    onChange (from, to, event) {
      metrics.state.set(STATE_VALUE[to.kind])
      if (from.kind === 'closed') {
        openSince = now()
        metrics.opens.inc({ reason: event.type === 'failure' ? event.reason : 'disconnected' })
      }
      if (to.kind === 'closed') {
        settle()
        openSince = undefined
        // A reconnect has its own line ('redis connected'); a probe that closes the breaker needs one.
        if (event.type === 'probe_ok' && from.kind !== 'closed') {
          logger.info({ outageMs: Math.round(now() - from.since) }, 'redis answered a probe; breaker closed, budgets and tokens are shared again')
        }
      }
      if (to.kind === 'probing') logger.debug('redis breaker open: probing')
      if (from.kind === 'probing' && to.kind === 'open') logger.debug('redis probe failed; still serving from local state')
    },
    stop () {
      settle()
      openSince = undefined
      unregister()
    }
  }
}
