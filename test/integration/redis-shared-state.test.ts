import t from 'tap'
import type { Redis } from 'ioredis'
import { pino } from 'pino'
import { buildFromObject } from '../../src/config/load.js'
import { createMetrics, createRedisMetrics } from '../../src/observability/metrics.js'
import { createRedisBreakerMetrics } from '../../src/observability/redis-breaker-metrics.js'
import { createSharedRedis } from '../../src/redis/connection.js'
import { createSharedState } from '../../src/redis/shared-state.js'
import { startRedis } from '../redis-server.js'

const A = 'aaaaaaaa-1111-4111-8111-111111111111'

t.test('createSharedState with redis.url: budgets and tokens in Redis', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  const loaded = buildFromObject({
    identity: { clientId: '0a0b0c0d-1111-4222-8333-444455556666', secret: { fromEnv: 'S' } },
    redis: { url: server.url, tokenKey: { fromEnv: 'RK' }, keyPrefix: 'gw:' },
    limits: { maxWaitMs: 0, classes: { default: { perMinute: 1 } } }
  }, { source: 'test', baseDir: '/', env: { S: 'x', RK: 'r'.repeat(40) } })
  const metrics = createMetrics('test')
  const shared = createSharedState(loaded, { logger: pino({ level: 'silent' }), metrics })
  t.equal(await shared.whenReady(10_000), true)
  t.equal(await shared.whenReady(10), true, 'at once when already up')
  t.ok((await shared.budgets.take(A, 'default', 'siem')).ok)
  t.notOk((await shared.budgets.take(A, 'default', 'siem')).ok)
  t.equal(await shared.redis?.client.zcard(`gw:rl:{${A}|default}:calls`), 1, 'the budget lives in Redis')
  await shared.tokenStore?.set(A, { accessToken: 'tok', expiresOn: Date.now() + 600_000 }, 0)
  t.equal((await shared.tokenStore?.get(A))?.accessToken, 'tok')
  const text = await metrics.registry.metrics()
  t.match(text, /defender_gateway_redis_up 1/)
  await shared.close()
  t.match(await metrics.registry.metrics(), /defender_gateway_redis_up 0/, 'closed: 0')
})

t.test('Redis metrics are registered once per registry', async (t) => {
  const metrics = createMetrics('test')
  const first = createRedisMetrics(metrics.registry)
  const second = createRedisMetrics(metrics.registry)
  t.equal(first.up, second.up)
  t.equal(first.fallbacks, second.fallbacks)
})

t.test('rediss:// connects with TLS, trusting the configured CA when there is one', async (t) => {
  const server = await startRedis()
  await server.stop()
  const url = `rediss://127.0.0.1:${server.port}`
  for (const caPem of [undefined, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n']) {
    const metrics = createRedisMetrics(createMetrics('test').registry)
    const password = caPem === undefined ? undefined : { reveal: () => 'redis-pw' }
    const breakerMetrics = createRedisBreakerMetrics(createMetrics('test').registry)
    const shared = createSharedRedis({ topology: { kind: 'standalone', url }, caPem, password, keyPrefix: 'x:', commandTimeoutMs: 100, connectTimeoutMs: 100, probeIntervalMs: 1000, logger: pino({ level: 'silent' }), metrics, breakerMetrics })
    const redis = { client: shared.client as Redis, close: shared.close }
    t.ok(redis.client.options.tls !== undefined, 'TLS is on')
    t.equal(redis.client.options.tls?.secureContext !== undefined, caPem !== undefined, 'a CA adds to the roots in one shared TLS context')
    t.notOk(redis.client.options.tls?.ca, 'never a CA list that would replace the system roots')
    t.equal(redis.client.options.password ?? undefined, password?.reveal(), 'the password comes from its secret reference')
    await redis.close()
  }
})
