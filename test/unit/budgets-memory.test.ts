import t from 'tap'
import { RATE_CLASSES } from '../../src/policy/catalogue-data.js'
import { createPlan } from '../../src/limits/plan.js'
import { createMemoryBudgets } from '../../src/limits/memory-budgets.js'
import { holdMs, systemClock, takeWithin } from '../../src/limits/take-loop.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { fakeClock } from '../fake-clock.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

function budgets (options: { perMinute?: number, maxWaitMs?: number, shares?: Record<string, number>, defaultShare?: number, maxTenants?: number } = {}) {
  const clock = fakeClock()
  const metrics = createMetrics('test')
  const plan = createPlan({
    classes: RATE_CLASSES,
    overrides: { default: { perMinute: options.perMinute ?? 5 } },
    clientShares: options.shares ?? {},
    defaultClientShare: options.defaultShare ?? 1
  })
  const b = createMemoryBudgets({ plan, maxTenants: options.maxTenants ?? 100, maxWaitMs: options.maxWaitMs ?? 0, clock, metrics })
  return { b, clock, metrics }
}

async function outcomes (metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const values = (await metrics.rateBudgetDecisions.get()).values
  return Object.fromEntries(values.map((v) => [`${v.labels.rate_class}/${v.labels.outcome}`, v.value]))
}

t.test('a spent budget denies with an accurate Retry-After; another tenant or class is untouched', async (t) => {
  const { b, clock, metrics } = budgets()
  for (let i = 0; i < 5; i++) t.same(await b.take(A, 'default', 'siem'), { ok: true })
  clock.advance(20_500)
  t.same(await b.take(A, 'default', 'siem'), { ok: false, retryAfterSeconds: 40, reason: 'local' }, '60 - 20.5 s, rounded up')
  t.same(await b.take(B, 'default', 'siem'), { ok: true }, 'budgets are per tenant')
  t.same(await b.take(A, 'advancedQuery', 'siem'), { ok: true }, 'and per rate class')
  clock.advance(39_500)
  t.same(await b.take(A, 'default', 'siem'), { ok: true }, 'a slot frees when the first call leaves the window')
  t.same(await outcomes(metrics), { 'default/allowed': 7, 'default/denied_budget': 1, 'advancedQuery/allowed': 1 })
  await b.close()
})

t.test('waits up to maxWaitMs for a slot, else denies at once', async (t) => {
  const { b, clock, metrics } = budgets({ perMinute: 2, maxWaitMs: 2000 })
  await b.take(A, 'default', 'siem')
  clock.advance(58_500)
  await b.take(A, 'default', 'siem')
  t.same(await b.take(A, 'default', 'siem'), { ok: true }, 'the slot frees in 1.5 s: wait for it')
  t.same(clock.sleeps, [1500])
  t.same(await b.take(A, 'default', 'siem'), { ok: false, retryAfterSeconds: 59, reason: 'local' }, 'the next slot is 58.5 s away')
  t.same(clock.sleeps, [1500], 'no pointless wait when the slot is beyond the bound')
  t.same(await outcomes(metrics), { 'default/allowed': 2, 'default/allowed_after_wait': 1, 'default/denied_budget': 1 })
})

t.test('hold: no call until Retry-After, then the budget resumes', async (t) => {
  const { b, clock, metrics } = budgets({ maxWaitMs: 1000 })
  await b.hold(A, 'default', 30)
  t.same(await b.take(A, 'default', 'siem'), { ok: false, retryAfterSeconds: 30, reason: 'upstream' })
  await b.hold(A, 'default', 5)
  clock.advance(10_000)
  t.same(await b.take(A, 'default', 'ops'), { ok: false, retryAfterSeconds: 20, reason: 'upstream' }, 'a shorter hold does not shorten a longer one')
  t.same(await b.take(A, 'unlimited', 'ops'), { ok: true }, 'the hold is per class')
  await b.hold(A, 'unlimited', 1)
  t.same(await b.take(A, 'unlimited', 'ops'), { ok: true }, 'a hold within maxWaitMs is waited out, even on an unlimited class')
  clock.advance(20_000)
  t.same(await b.take(A, 'default', 'siem'), { ok: true })
  t.equal((await metrics.rateBudgetHolds.get()).values.find((v) => v.labels.rate_class === 'default')?.value, 2)
  t.same(await outcomes(metrics), { 'default/denied_upstream_hold': 2, 'unlimited/allowed': 1, 'unlimited/allowed_after_wait': 1, 'default/allowed': 1 })
})

t.test('holdMs clamps odd Retry-After values', async (t) => {
  const rows: Array<[number, number]> = [[0, 1000], [-5, 1000], [Number.NaN, 1000], [Number.POSITIVE_INFINITY, 1000], [2.5, 2500], [86_400, 3_600_000]]
  for (const [s, ms] of rows) t.equal(holdMs(s), ms, String(s))
})

t.test('fairness: a client with a share cannot starve the others', async (t) => {
  const { b } = budgets({ perMinute: 10, shares: { siem: 0.5 } })
  let siem = 0
  for (let i = 0; i < 20; i++) if ((await b.take(A, 'default', 'siem')).ok) siem++
  t.equal(siem, 5, 'the greedy connector gets its half')
  let ops = 0
  for (let i = 0; i < 20; i++) if ((await b.take(A, 'default', 'ops')).ok) ops++
  t.equal(ops, 5, 'the rest is still there for the others')
  const denied = await b.take(A, 'default', 'siem')
  t.same(denied, { ok: false, retryAfterSeconds: 60, reason: 'local' })
})

t.test('fairness: a default share caps every client; shares are per tenant', async (t) => {
  const { b, metrics } = budgets({ perMinute: 9, defaultShare: 1 / 3 })
  const counts: Record<string, number> = {}
  for (const client of ['a', 'b', 'c', 'd']) {
    counts[client] = 0
    for (let i = 0; i < 5; i++) if ((await b.take(A, 'default', client)).ok) counts[client]++
  }
  t.same(counts, { a: 3, b: 3, c: 3, d: 0 }, 'three clients fill the tenant budget; the fourth waits for the window')
  t.same(await b.take(B, 'default', 'a'), { ok: true }, 'another tenant has its own shares')
  const o = await outcomes(metrics)
  t.equal(o['default/denied_client_share'], 4, 'a and b hit their share')
  t.equal(o['default/denied_budget'], 7, 'c and d hit the tenant budget (reported first when both are spent)')
})

t.test('bounded: the least recently used tenant is forgotten', async (t) => {
  const { b } = budgets({ perMinute: 1, maxTenants: 2 })
  t.ok((await b.take(A, 'default', 'x')).ok)
  t.notOk((await b.take(A, 'default', 'x')).ok)
  await b.take(B, 'default', 'x')
  await b.take('33333333-3333-4333-8333-333333333333', 'default', 'x')
  t.ok((await b.take(A, 'default', 'x')).ok, 'A fell out of the LRU, so its log is gone')
})

t.test('takeWithin gives up after a bounded number of attempts', async (t) => {
  const clock = fakeClock()
  let attempts = 0
  const result = await takeWithin(async () => { attempts++; return { waitMs: 1, cause: 'tenant' } }, 1000, clock)
  t.same(result, { decision: { ok: false, retryAfterSeconds: 1, reason: 'local' }, outcome: 'denied_budget' })
  t.equal(attempts, 8)
})

t.test('the system clock is monotonic milliseconds and really sleeps', async (t) => {
  const before = systemClock.now()
  await systemClock.sleep(1)
  t.ok(systemClock.now() >= before)
})
