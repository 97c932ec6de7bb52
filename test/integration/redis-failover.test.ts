import t from 'tap'
import { createRateBudgets } from '../../src/limits/create-budgets.js'
import { createRedisBudgetStore } from '../../src/redis/budget-store.js'
import { reconnectDelay } from '../../src/redis/connection.js'
import { createRedisTokenStore } from '../../src/redis/token-store.js'
import { startRedis } from '../redis-server.js'
import { connect, until } from '../redis-clients.js'

const A = '11111111-1111-4111-8111-111111111111'
const KEY = 'k'.repeat(32)
const limits = {
  maxWaitMs: 0,
  maxTenants: 100,
  clientShares: {},
  defaultClientShare: 1,
  fallbackShare: 0.5,
  classes: { default: { perMinute: 8 } }
}

t.test('Redis killed mid-run: local answers, metric and log, then sharing resumes', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  const one = await connect(server.url)
  const two = await connect(server.url)
  t.teardown(async () => { await one.redis.close(); await two.redis.close() })
  const first = createRateBudgets(limits, { store: createRedisBudgetStore(one.redis), metrics: one.metrics })
  const second = createRateBudgets(limits, { store: createRedisBudgetStore(two.redis), metrics: two.metrics })
  const store = createRedisTokenStore({ redis: one.redis, keyMaterial: KEY })
  t.equal(await one.gauge(), 1, 'redis_up is 1 while connected')
  t.ok(one.logs.some((l) => l.msg === 'redis connected; budgets and tokens are shared across replicas'))

  for (let i = 0; i < 3; i++) t.ok((await first.take(A, 'default', 'siem')).ok, 'shared while up')
  await store.set(A, { accessToken: 'tok', expiresOn: Date.now() + 3_600_000 }, 0)

  await server.kill()
  t.ok(await until(async () => await one.gauge() === 0), 'redis_up goes to 0')
  t.equal(one.redis.isUp(), false)
  t.ok(one.logs.some((l) => l.level === 40 && l.msg === 'redis connection lost; serving from local state until it returns'), 'a warning says so')

  const during = []
  for (let i = 0; i < 5; i++) during.push(await first.take(A, 'default', 'siem'))
  t.same(during.map((d) => d.ok), [true, false, false, false, false],
    'local state answers: fallbackShare 0.5 of 8 = 4, of which this replica already sent 3')
  t.ok((await second.take(A, 'default', 'siem')).ok, 'the other replica answers from its own state')
  await first.hold(A, 'advancedQuery', 30)
  const held = await first.take(A, 'advancedQuery', 'siem')
  t.ok(!held.ok && held.reason === 'upstream', 'a hold taken while Redis is down applies locally')
  t.equal(await store.get(A), undefined, 'no shared token while down')
  await store.set(A, { accessToken: 'tok', expiresOn: Date.now() + 3_600_000 }, 0)
  t.equal(await store.lock(A, 1000), true, 'the lock says go: this replica asks Entra itself')
  await store.unlock(A)
  t.equal(await one.fallbacks('take'), 6, 'every take while down, the held one included')
  t.equal(await one.fallbacks('hold'), 1)
  t.equal(await one.fallbacks('token_get'), 1)
  t.equal(await one.fallbacks('token_set'), 1)
  t.equal(await one.fallbacks('lock'), 1)
  t.equal(await one.fallbacks('unlock'), 1)

  await server.restart()
  t.ok(await until(async () => await one.gauge() === 1 && await two.gauge() === 1), 'redis_up back to 1 by itself')
  t.equal(one.logs.filter((l) => l.msg === 'redis connected; budgets and tokens are shared across replicas').length, 2, 'and a log line says so')
  // The two calls the replicas allowed on local state (one each) join the restarted, empty Redis's log.
  t.ok(await until(async () => await one.redis.client.zcard(`test:rl:{${A}|default}:calls`) === 2), 'calls allowed during the outage are added to the shared log')
  const after = await Promise.all(Array.from({ length: 10 }, async (_, i) => await (i % 2 === 0 ? first : second).take(A, 'default', 'siem')))
  t.equal(after.filter((a) => a.ok).length, 6, 'shared again: 8 minus the 2 calls that went out during the outage')
  t.equal(await one.fallbacks('take'), 6, 'no more fallbacks')
  t.equal(await store.lock(A, 1000), true)
  t.equal(await createRedisTokenStore({ redis: two.redis, keyMaterial: KEY }).lock(A, 1000), false, 'locks are shared again')
})

t.test('a slow Redis costs one abandoned call, is logged once, and is used again when a probe answers', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  const one = await connect(server.url, { commandTimeoutMs: 100, probeIntervalMs: 50 })
  const admin = await connect(server.url)
  t.teardown(async () => { await one.redis.close(); await admin.redis.close() })
  const budgets = createRateBudgets(limits, { store: createRedisBudgetStore(one.redis) })
  // Paused for 1 s (our calls time out after 100 ms); it ends by itself, since an UNPAUSE would wait too.
  await admin.redis.client.call('CLIENT', 'PAUSE', '1000', 'ALL')
  t.ok((await budgets.take(A, 'default', 'x')).ok, 'answered locally')
  t.equal(one.redis.breakerState() === 'closed', false, 'the abandoned call opened the breaker')
  t.ok((await budgets.take(A, 'default', 'x')).ok)
  t.equal(await one.fallbacks('take'), 2)
  t.equal(await one.timeouts('take'), 1, 'only the first call waited for the timeout; the second did not touch Redis')
  t.equal(one.logs.filter((l) => l.msg === 'redis call failed; serving from local state until a probe answers').length, 1, 'one line per episode')
  t.ok(await until(async () => one.redis.breakerState() === 'closed'), 'the pause ends and a probe closes the breaker')
  t.ok((await budgets.take(A, 'default', 'x')).ok)
  t.equal(await one.fallbacks('take'), 2, 'back on Redis')
  // 4: the call after the pause, the two allowed locally (added once Redis answered again), and the
  // abandoned one, which ran when the pause ended: counting it twice errs on the safe side.
  t.ok(await until(async () => await admin.redis.client.zcard(`test:rl:{${A}|default}:calls`) === 4), 'the calls are in the shared log')
  t.equal(one.redis.isUp(), true, 'a timeout alone does not mark Redis down')
})

t.test('no Redis at start: whenReady says so and everything is local', async (t) => {
  const server = await startRedis()
  await server.stop()
  const one = await connect(server.url, { wait: false })
  t.teardown(async () => await one.redis.close())
  t.equal(await one.redis.whenReady(50), false)
  t.equal(await one.gauge(), 0)
  const budgets = createRateBudgets(limits, { store: createRedisBudgetStore(one.redis) })
  t.ok((await budgets.take(A, 'default', 'x')).ok)
  t.equal(await one.fallbacks('take'), 1)
})

t.test('reconnect delay backs off to 2 s and stays there', async (t) => {
  t.same([1, 2, 3, 5, 6, 100].map(reconnectDelay), [100, 200, 400, 1600, 2000, 2000])
})
