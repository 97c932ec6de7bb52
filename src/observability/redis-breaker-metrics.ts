import { Counter, Gauge, type Registry } from 'prom-client'

/** Whether the gateway uses Redis or answers locally, and what Redis outages cost (redis.url only). */
export interface RedisBreakerMetrics {
  /** 0 closed (Redis used), 1 open (local answers), 2 probing */
  readonly state: Gauge
  readonly opens: Counter<'reason'>
  readonly fallbackSeconds: Counter
  readonly commandTimeouts: Counter<'operation'>
  /** 1 per node the gateway writes to as primary (one; a cluster's one per shard) */
  readonly primary: Gauge<'node'>
  /** a primary replaced by another (Sentinel promotion, cluster replica takeover) */
  readonly failovers: Counter
  /** `settle` brings fallbackSeconds up to date at each scrape (an outage in progress counts too); returns its removal */
  onScrape (settle: () => void): () => void
}

const byRegistry = new WeakMap<Registry, RedisBreakerMetrics>()

/** Registers the breaker metrics on an app's registry (once per registry, as createRedisMetrics). */
export function createRedisBreakerMetrics (registry: Registry): RedisBreakerMetrics {
  const existing = byRegistry.get(registry)
  if (existing !== undefined) return existing
  const registers = [registry]
  const settlers = new Set<() => void>()
  const metrics: RedisBreakerMetrics = {
    // server.workers: the worst worker (2 probing > 1 open > 0 closed)
    state: new Gauge({ name: 'defender_gateway_redis_breaker_state', help: 'Redis circuit breaker: 0 closed (Redis used), 1 open (served from local state at once), 2 probing.', aggregator: 'max', registers }),
    opens: new Counter({ name: 'defender_gateway_redis_breaker_opens_total', help: 'Times the Redis breaker opened, by what opened it (timeout, error, disconnected).', labelNames: ['reason'], registers }),
    fallbackSeconds: new Counter({
      name: 'defender_gateway_redis_fallback_seconds_total',
      help: 'Time the Redis breaker was not closed, so budgets and tokens were local.',
      registers,
      collect () { for (const settle of settlers) settle() }
    }),
    commandTimeouts: new Counter({ name: 'defender_gateway_redis_command_timeouts_total', help: 'Redis calls abandoned after redis.commandTimeoutMs, by operation (probe included).', labelNames: ['operation'], registers }),
    primary: new Gauge({ name: 'defender_gateway_redis_primary_info', help: 'Redis nodes in use as primary (1 each), by node address.', labelNames: ['node'], aggregator: 'max', registers }),
    failovers: new Counter({ name: 'defender_gateway_redis_failovers_total', help: 'Redis primaries seen replaced by another node (Sentinel promotion, cluster failover).', registers }),
    onScrape (settle) {
      settlers.add(settle)
      return () => { settlers.delete(settle) }
    }
  }
  byRegistry.set(registry, metrics)
  return metrics
}
