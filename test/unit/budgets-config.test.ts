import t from 'tap'
import { pino } from 'pino'
import { buildFromObject, type LoadOptions } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createSharedState } from '../../src/redis/shared-state.js'

const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
const A = 'aaaaaaaa-1111-4111-8111-111111111111'
const TOKEN_KEY = 'q'.repeat(32)
const options: LoadOptions = { source: 'test.yaml', baseDir: '/', env: { GW_SECRET: 'secret', RK: TOKEN_KEY, SHORT: 'short', RP: 'redis-password' } }

const base = (more: Record<string, unknown> = {}): Record<string, unknown> => ({
  identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_SECRET' } },
  tenants: [{ id: A, permissions: ['Alert.Read.All'] }],
  clients: [{ name: 'siem', keySha256: 'a'.repeat(64), tenants: ['*'], permissions: ['Alert.Read.All'] }],
  ...more
})

function problems (raw: Record<string, unknown>): readonly string[] {
  try {
    buildFromObject(raw, options)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('defaults: in memory, 2 s wait, no shares', async (t) => {
  const { config, secrets } = buildFromObject(base(), options)
  t.equal(config.redis, undefined)
  t.same(config.limits, { maxWaitMs: 2000, maxTenants: 50_000, clientShares: {}, defaultClientShare: 1, fallbackShare: 1, classes: {} })
  t.equal(secrets.redisTokenKey, undefined)
})

t.test('a full redis and limits section', async (t) => {
  const { config, secrets } = buildFromObject(base({
    redis: { url: 'redis://127.0.0.1:6379/2', tokenKey: { fromEnv: 'RK' }, password: { fromEnv: 'RP' }, keyPrefix: 'gw1:' },
    limits: { maxWaitMs: 0, clientShares: { siem: 0.5 }, fallbackShare: 0.34, classes: { default: { perMinute: 80 }, exportFiles: { perHour: null } } }
  }), options)
  t.same(config.redis, { url: 'redis://127.0.0.1:6379/2', tokenKey: { fromEnv: 'RK' }, password: { fromEnv: 'RP' }, keyPrefix: 'gw1:', commandTimeoutMs: 500, connectTimeoutMs: 2000, probeIntervalMs: 1000 })
  t.equal(secrets.redisTokenKey?.reveal(), TOKEN_KEY)
  t.equal(secrets.redisPassword?.reveal(), 'redis-password')
  t.same(config.limits.classes, { default: { perMinute: 80 }, exportFiles: { perHour: null } })
})

t.test('every problem at once, with its path', async (t) => {
  t.same(problems(base({
    redis: { url: 'redis://:pw@127.0.0.1:6379' },
    limits: { clientShares: { sieem: 0.5 }, classes: { defualt: { perMinute: 5 } } }
  })), [
    "limits.clientShares.sieem: unknown client 'sieem'",
    `limits.classes.defualt: unknown rate class 'defualt'; known: ${'default, machineVulnerabilities, advancedQuery, exportByMachine, indicatorImport, indicatorBatchDelete, alertCreateByReference, alertBatchUpdate, liveResponse, exportFiles, packageUri, startInvestigation, unlimited, graphAlerts, graphSecurity, graphSecureScore, graphHunting'}`,
    'redis.url: must not contain a password; use redis.password: {fromEnv: NAME} or {fromFile: PATH}',
    'redis.tokenKey: required with redis (tokens are encrypted at rest); e.g. {fromEnv: GATEWAY_REDIS_TOKEN_KEY} holding `openssl rand -base64 32`'
  ])
  t.same(problems(base({ redis: { url: 'redis://127.0.0.1', tokenKey: { fromEnv: 'SHORT' } } })),
    ['redis.tokenKey: must be at least 32 characters (e.g. `openssl rand -base64 32`)'])
  t.same(problems(base({ redis: { url: 'redis://127.0.0.1', tokenKey: { fromEnv: 'NOPE' } } })),
    ['redis.tokenKey: environment variable NOPE is not set'])
  const schema = problems(base({ redis: { url: 'http://x', tokenKey: 'inline' }, limits: { clientShares: { siem: 0 }, fallbackShare: 2, maxWaitMs: -1, classes: { default: { perMinute: 0 } } } }))
  t.ok(schema.some((p) => p.startsWith('redis.url: must be an absolute redis: or rediss: URL')), 'url')
  t.ok(schema.some((p) => p.startsWith('redis.tokenKey: must be {fromEnv: NAME} or {fromFile: PATH}')), 'no inline secrets')
  t.ok(schema.some((p) => p === 'limits.clientShares.siem: must be more than 0'), 'share above 0')
  t.ok(schema.some((p) => p === 'limits.fallbackShare: must be at most 1'), 'share at most 1')
  t.ok(schema.some((p) => p.startsWith('limits.maxWaitMs')), 'wait bound')
  t.ok(schema.some((p) => p.startsWith('limits.classes.default.perMinute')), 'positive limits')
})

t.test('shared state without Redis: memory budgets, no token store', async (t) => {
  const metrics = createMetrics('test')
  const shared = createSharedState(buildFromObject(base({ limits: { maxWaitMs: 0, classes: { default: { perMinute: 1 } } } }), options), { logger: pino({ level: 'silent' }), metrics })
  t.equal(shared.tokenStore, undefined)
  t.equal(shared.redis, undefined)
  t.equal(await shared.whenReady(10), true)
  t.ok((await shared.budgets.take(A, 'default', 'siem')).ok)
  t.notOk((await shared.budgets.take(A, 'default', 'siem')).ok)
  t.notOk((await metrics.registry.metrics()).includes('defender_gateway_redis_up'), 'no Redis metrics without Redis')
  await shared.close()
})
