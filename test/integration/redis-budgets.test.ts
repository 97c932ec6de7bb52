import t from 'tap'
import { createRateBudgets } from '../../src/limits/create-budgets.js'
import { createRedisBudgetStore } from '../../src/redis/budget-store.js'
import { startRedis } from '../redis-server.js'
import { connect } from '../redis-clients.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

const limits = (over: Record<string, unknown> = {}) => ({
  maxWaitMs: 0,
  maxTenants: 100,
  clientShares: {},
  defaultClientShare: 1,
  fallbackShare: 1,
  classes: { default: { perMinute: 5 } },
  ...over
})

t.test('budgets in Redis', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  const one = await connect(server.url)
  const two = await connect(server.url)
  t.teardown(async () => { await one.redis.close(); await two.redis.close() })

  t.test('two replicas share one limit', async (t) => {
    const first = createRateBudgets(limits(), { store: createRedisBudgetStore(one.redis), metrics: one.metrics })
    const second = createRateBudgets(limits(), { store: createRedisBudgetStore(two.redis), metrics: two.metrics })
    const answers = await Promise.all(Array.from({ length: 12 }, async (_, i) => await (i % 2 === 0 ? first : second).take(A, 'default', 'siem')))
    t.equal(answers.filter((a) => a.ok).length, 5, 'exactly the limit, across both')
    for (const a of answers.filter((a) => !a.ok)) {
      t.ok(!a.ok && a.reason === 'local' && a.retryAfterSeconds >= 1 && a.retryAfterSeconds <= 60, 'denied with a Retry-After inside the window')
    }
    t.ok((await second.take(B, 'default', 'siem')).ok, 'another tenant is separate')
    t.ok((await first.take(A, 'unlimited', 'siem')).ok, 'a class without limits is not counted')
    t.equal(await one.fallbacks('take'), 0, 'no fallback while Redis answers')
    await first.close()
  })

  t.test('a hold set by one replica stops the others', async (t) => {
    const first = createRateBudgets(limits(), { store: createRedisBudgetStore(one.redis) })
    const second = createRateBudgets(limits(), { store: createRedisBudgetStore(two.redis), metrics: two.metrics })
    await first.hold(A, 'advancedQuery', 30)
    await first.hold(A, 'advancedQuery', 5)
    const answer = await second.take(A, 'advancedQuery', 'ops')
    t.equal(answer.ok, false)
    t.ok(!answer.ok && answer.reason === 'upstream' && answer.retryAfterSeconds >= 29 && answer.retryAfterSeconds <= 30, 'the longer hold stays')
    t.ok((await second.take(A, 'exportFiles', 'ops')).ok, 'other classes go on')
    const outcomes = (await two.metrics.rateBudgetDecisions.get()).values.map((v) => v.labels.outcome)
    t.ok(outcomes.includes('denied_upstream_hold'))
  })

  t.test('client shares hold across replicas', async (t) => {
    const over = limits({ classes: { alertBatchUpdate: { perMinute: 4 } }, clientShares: { siem: 0.5 } })
    const first = createRateBudgets(over, { store: createRedisBudgetStore(one.redis), metrics: one.metrics })
    const second = createRateBudgets(over, { store: createRedisBudgetStore(two.redis) })
    // In turn, not at once: the third call (on `first`, the one with metrics) is then the first refused.
    const siem = []
    for (const b of [first, second, first, second]) siem.push(await b.take(B, 'alertBatchUpdate', 'siem'))
    t.equal(siem.filter((a) => a.ok).length, 2, 'siem gets its half')
    const denied = siem.find((a) => !a.ok)
    t.ok(denied !== undefined && !denied.ok && denied.reason === 'local')
    const ops = await Promise.all([first, second, first].map(async (b) => await b.take(B, 'alertBatchUpdate', 'ops')))
    t.equal(ops.filter((a) => a.ok).length, 2, 'ops still has the rest of the tenant budget')
    const outcomes = (await one.metrics.rateBudgetDecisions.get()).values.filter((v) => v.labels.rate_class === 'alertBatchUpdate').map((v) => v.labels.outcome)
    t.ok(outcomes.includes('denied_client_share'), 'the share is named as the cause')
  })

  t.test('the hour window and keys expire with their window', async (t) => {
    const over = limits({ classes: { packageUri: { perMinute: null, perHour: 2 } } })
    const first = createRateBudgets(over, { store: createRedisBudgetStore(one.redis) })
    t.ok((await first.take(A, 'packageUri', 'x')).ok)
    t.ok((await first.take(A, 'packageUri', 'x')).ok)
    const denied = await first.take(A, 'packageUri', 'x')
    t.ok(!denied.ok && denied.retryAfterSeconds > 3500, 'Retry-After counts the hour')
    const ttl = await one.redis.client.pttl(`test:rl:{${A}|packageUri}:calls`)
    t.ok(ttl > 0 && ttl <= 3_600_000, 'the log expires after its longest window')
  })
})
