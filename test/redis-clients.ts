import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createMetrics, createRedisMetrics, type GatewayMetrics } from '../src/observability/metrics.js'
import { createRedisBreakerMetrics, type RedisBreakerMetrics } from '../src/observability/redis-breaker-metrics.js'
import { createSharedRedis, type SharedRedis } from '../src/redis/connection.js'
import type { RedisTopology } from '../src/redis/topology.js'

/** A SharedRedis for tests, with its metrics and every log line it wrote. */
export interface TestConnection {
  readonly redis: SharedRedis
  readonly metrics: GatewayMetrics
  readonly logs: Array<Record<string, unknown>>
  readonly breaker: RedisBreakerMetrics
  gauge (): Promise<number | undefined>
  /** calls of `operation` abandoned after the command timeout */
  timeouts (operation: string): Promise<number>
  fallbacks (operation: string): Promise<number>
}

/** Connects to a test Redis (a URL, or any topology) and waits until it is ready (unless `wait` is false). */
export async function connect (url: string | RedisTopology, options: { commandTimeoutMs?: number, probeIntervalMs?: number, wait?: boolean } = {}): Promise<TestConnection> {
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line))
      cb()
    }
  })
  const metrics = createMetrics('test')
  const redisMetrics = createRedisMetrics(metrics.registry)
  const breaker = createRedisBreakerMetrics(metrics.registry)
  const redis = createSharedRedis({
    topology: typeof url === 'string' ? { kind: 'standalone', url } : url,
    keyPrefix: 'test:',
    commandTimeoutMs: options.commandTimeoutMs ?? 1000,
    connectTimeoutMs: 1000,
    probeIntervalMs: options.probeIntervalMs ?? 1000,
    logger: pino({ level: 'debug' }, sink),
    metrics: redisMetrics,
    breakerMetrics: breaker
  })
  if (options.wait !== false && !await redis.whenReady(10_000)) throw new Error('test redis did not become ready')
  return {
    redis,
    metrics,
    logs,
    breaker,
    timeouts: async (operation) => (await breaker.commandTimeouts.get()).values.find((v) => v.labels.operation === operation)?.value ?? 0,
    gauge: async () => (await redisMetrics.up.get()).values[0]?.value,
    fallbacks: async (operation) => (await redisMetrics.fallbacks.get()).values.find((v) => v.labels.operation === operation)?.value ?? 0
  }
}

/**
 * Polls `condition` every 20 ms, at most `tries` times: no wall-clock assertion. The bound (~60 s plus
 * the checks' own time) only ends a wait that will never succeed; a loaded machine must not reach it.
 */
export async function until (condition: () => boolean | Promise<boolean>, tries = 3000): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}
