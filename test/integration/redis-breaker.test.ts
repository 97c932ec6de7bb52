import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { promtool } from '../promtool.js'
import { call, startWorld, TENANT_A, TENANT_B, withKey, type Answer, type TestWorld } from '../helper.js'
import { createRateBudgets } from '../../src/limits/create-budgets.js'
import { createRedisBudgetStore } from '../../src/redis/budget-store.js'
import { createRedisTokenStore } from '../../src/redis/token-store.js'
import { connect, until, type TestConnection } from '../redis-clients.js'
import { startRedis } from '../redis-server.js'

/** Sum of a metric's samples on the admin listener whose labels contain `labels` (e.g. 'operation="take"'). */
async function metric (world: TestWorld, name: string, labels = ''): Promise<number> {
  const text = (await call(world.adminUrl, '/metrics')).text
  return text.split('\n')
    .filter((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
}

/** Command timeouts paid by requests: every operation but the breaker's own probes. */
async function requestTimeouts (world: TestWorld): Promise<number> {
  return await metric(world, 'defender_gateway_redis_command_timeouts_total') -
    await metric(world, 'defender_gateway_redis_command_timeouts_total', 'operation="probe"')
}

const A_TENANT = '11111111-1111-4111-8111-111111111111'
const limits = { maxWaitMs: 0, maxTenants: 100, clientShares: {}, defaultClientShare: 1, fallbackShare: 1, classes: { default: { perMinute: 1000 } } }

const alerts = async (world: TestWorld, tenant: string): Promise<Answer> =>
  await call(world.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })

t.test('hung Redis (SIGSTOP) cost a command timeout per request: now one timeout, then local answers until a probe answers', async (t) => {
  const redis = await startRedis()
  // stop() sends SIGCONT, then SIGKILL: a stopped redis-server never outlives the test.
  t.teardown(async () => await redis.stop())
  const dir = await mkdtemp(join(tmpdir(), 'dgw-breaker-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  const keyFile = join(dir, 'redis-token-key')
  await writeFile(keyFile, 'k'.repeat(40))
  const world = await startWorld({
    config: (base) => ({ ...base, redis: { url: redis.url, tokenKey: { fromFile: keyFile }, probeIntervalMs: 100 } })
  })
  t.teardown(async () => await world.close())

  t.equal((await alerts(world, TENANT_A)).status, 200, 'warm: tenant A has a token and a shared budget')
  t.ok(await until(async () => await metric(world, 'defender_gateway_redis_breaker_state') === 0), 'breaker closed: Redis in use')
  const takesBefore = await metric(world, 'defender_gateway_redis_fallbacks_total', 'operation="take"')
  const timeoutsBefore = await requestTimeouts(world)
  // Baselines: on a loaded machine a stalled event loop may already have cost a timeout before the pause.
  const opensBefore = await metric(world, 'defender_gateway_redis_breaker_opens_total')
  const warnings = (): number => world.logs.filter((l) => l.msg === 'redis call failed; serving from local state until a probe answers').length
  const warningsBefore = warnings()

  redis.pause()
  const N = 20
  const sequential: Answer[] = []
  for (let i = 0; i < N; i++) sequential.push(await alerts(world, TENANT_A))
  // A burst, and a tenant never seen (its token lookup and lock go to the shared store too).
  const burst = await Promise.all(Array.from({ length: N }, async (_, i) => await alerts(world, i % 2 === 0 ? TENANT_A : TENANT_B)))
  t.same([...sequential, ...burst].filter((a) => a.status !== 200).map((a) => a.text), [], `all ${2 * N} requests answered 200 while Redis hangs`)
  const paid = await requestTimeouts(world) - timeoutsBefore
  t.ok(paid <= 1, `at most one request paid the command timeout (paid: ${paid})`)
  t.equal(await metric(world, 'defender_gateway_redis_fallbacks_total', 'operation="take"') - takesBefore, 2 * N, 'every budget decision was local')
  t.ok(await metric(world, 'defender_gateway_redis_fallbacks_total', 'operation="token_get"') >= 1, 'the token store was skipped too')
  t.ok(await metric(world, 'defender_gateway_redis_breaker_opens_total') - opensBefore <= 1, 'the breaker opened once')
  t.not(await metric(world, 'defender_gateway_redis_breaker_state'), 0, 'and is not closed while Redis hangs')
  t.ok(warnings() - warningsBefore <= 1, 'one warning, not one per request')

  redis.resume()
  t.ok(await until(async () => await metric(world, 'defender_gateway_redis_breaker_state') === 0, 3000), 'a probe answers: breaker closed')
  t.ok(world.logs.some((l) => l.msg === 'redis answered a probe; breaker closed, budgets and tokens are shared again'), 'a line says so')
  const takesAfterOutage = await metric(world, 'defender_gateway_redis_fallbacks_total', 'operation="take"')
  t.equal((await alerts(world, TENANT_A)).status, 200)
  t.equal(await metric(world, 'defender_gateway_redis_fallbacks_total', 'operation="take"'), takesAfterOutage, 'shared state used again: the budget decision went to Redis')
  t.ok(await metric(world, 'defender_gateway_redis_fallback_seconds_total') > 0, 'time in fallback is counted')
  const { code, output } = await promtool((await call(world.adminUrl, '/metrics')).text)
  t.equal(code, 0, `the Redis metrics after an outage lint clean: ${output.trim() || 'clean'}`)
})

/** Errors Redis itself answered, by prefix (INFO errorstats): counted by Redis, so the old code can be measured too. */
async function redisErrors (client: TestConnection['redis']['client'], prefix: string): Promise<number> {
  const stats = await client.info('errorstats')
  return Number(new RegExp(`errorstat_${prefix}:count=(\\d+)`).exec(stats)?.[1] ?? 0)
}

t.test('a Redis that answers PING but refuses our calls (OOM) was sent every call: now at most two, not one per request', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  // A failure within an interval of connecting waits an interval (30-90 s here) for its probe: the
  // rule that keeps a Redis whose PING answers from costing one failed call per request.
  const one = await connect(server.url, { probeIntervalMs: 60_000 })
  const admin = await connect(server.url)
  t.teardown(async () => { await one.redis.close(); await admin.redis.close() })
  const budgets = createRateBudgets(limits, { store: createRedisBudgetStore(one.redis) })
  const store = createRedisTokenStore({ redis: one.redis, keyMaterial: 'k'.repeat(32) })
  t.ok((await budgets.take(A_TENANT, 'default', 'siem')).ok, 'on Redis first')
  t.equal(await one.fallbacks('take'), 0)

  await admin.redis.client.config('SET', 'maxmemory', '1')
  /** One request's Redis work: a budget take, a token write, a lock and its release; all must answer. */
  async function round (i: number): Promise<void> {
    t.ok((await budgets.take(A_TENANT, 'default', 'siem')).ok, `take ${i} answered`)
    await store.set(A_TENANT, { accessToken: 'tok', expiresOn: Date.now() + 600_000 }, 0)
    t.equal(await store.lock(A_TENANT, 1000), true, `lock ${i} answered`)
    await store.unlock(A_TENANT)
    // Requests arrive through I/O, so timers (the probe) run between them.
    await new Promise((resolve) => setImmediate(resolve))
  }
  await round(0)
  t.equal(await redisErrors(admin.redis.client, 'OOM'), 1, 'the first refused call opened the breaker')
  const N = 20
  for (let i = 1; i <= N; i++) await round(i)
  const refused = await redisErrors(admin.redis.client, 'OOM')
  // 1, or 2 if the machine was so slow that a probe came due (PING answers, so it closes once more).
  t.ok(refused <= 2, `Redis refused ${refused} of the ${3 * (N + 1)} calls that refuse under OOM`)
  t.ok(await one.fallbacks('take') >= N, 'the takes were answered locally')
  t.not(one.redis.breakerState(), 'closed', 'and the breaker stays off Redis until the next probe')
  t.ok(one.logs.filter((l) => l.msg === 'redis call failed; serving from local state until a probe answers').length <= 2, 'a warning per opening, not per call')
})
