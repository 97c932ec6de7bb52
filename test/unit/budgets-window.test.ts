import t from 'tap'
import { RATE_CLASSES } from '../../src/policy/catalogue-data.js'
import { createPlan } from '../../src/limits/plan.js'
import { parseRetryAfter } from '../../src/limits/retry-after.js'
import { decide, firstAfter, HOUR_MS, MINUTE_MS, prune, record, retryAfterSeconds, scaled, waitFor, windowsOf, type Window } from '../../src/limits/window.js'

const perMinute = (limit: number): Window => ({ ms: MINUTE_MS, limit })
const perHour = (limit: number): Window => ({ ms: HOUR_MS, limit })

t.test('waitFor: milliseconds until one more call fits every window', async (t) => {
  const rows: ReadonlyArray<{ name: string, calls: number[], windows: Window[], now: number, expect: number }> = [
    { name: 'empty log', calls: [], windows: [perMinute(2)], now: 0, expect: 0 },
    { name: 'no windows (unlimited class)', calls: [0, 0, 0], windows: [], now: 0, expect: 0 },
    { name: 'below the limit', calls: [0], windows: [perMinute(2)], now: 10, expect: 0 },
    { name: 'at the limit: oldest call leaves at +60 s', calls: [0, 500], windows: [perMinute(2)], now: 1000, expect: 59_000 },
    { name: 'a call exactly one window old is out', calls: [0, 500], windows: [perMinute(2)], now: 60_000, expect: 0 },
    { name: 'one ms before it leaves', calls: [0, 500], windows: [perMinute(2)], now: 59_999, expect: 1 },
    { name: 'over the limit (after a limit was lowered): the right call must leave', calls: [0, 100, 200, 300], windows: [perMinute(2)], now: 1000, expect: 60_200 - 1000 },
    { name: 'old calls outside the window do not count', calls: [-70_000, -65_000, 0], windows: [perMinute(2)], now: 1000, expect: 0 },
    { name: 'hour window binds while the minute one is free', calls: [0, 1000, 2000], windows: [perMinute(100), perHour(3)], now: 120_000, expect: HOUR_MS - 120_000 },
    { name: 'the longest wait of both windows wins', calls: [0, 59_000], windows: [perMinute(2), perHour(2)], now: 59_500, expect: HOUR_MS - 59_500 }
  ]
  for (const row of rows) t.equal(waitFor(row.calls, row.windows, row.now), row.expect, row.name)
})

t.test('firstAfter finds the first call inside a window (binary search)', async (t) => {
  const calls = [1, 2, 2, 5, 9]
  const rows: Array<[number, number]> = [[0, 0], [1, 1], [2, 3], [4, 3], [5, 4], [9, 5], [100, 5]]
  for (const [since, expect] of rows) t.equal(firstAfter(calls, since), expect, `since ${since}`)
  t.equal(firstAfter([], 0), 0, 'empty')
})

t.test('prune keeps only calls inside the longest window; record stays ascending', async (t) => {
  const calls = [0, 10, HOUR_MS - 5, HOUR_MS + 10]
  prune(calls, [perMinute(5), perHour(5)], HOUR_MS + 10)
  t.same(calls, [HOUR_MS - 5, HOUR_MS + 10])
  prune(calls, [perMinute(5)], HOUR_MS + 10)
  t.same(calls, [HOUR_MS - 5, HOUR_MS + 10], 'nothing to drop inside the minute')
  record(calls, HOUR_MS)
  t.same(calls, [HOUR_MS - 5, HOUR_MS + 10, HOUR_MS + 10], 'a clock step back records at the last time')
  record(calls, HOUR_MS + 20)
  t.equal(calls.at(-1), HOUR_MS + 20)
})

t.test('decide: records only allowed calls and names the limit that waits longest', async (t) => {
  const ledger = { tenant: [] as number[], client: [] as number[], holdUntil: 0 }
  const tenantW = [perMinute(3)]
  const clientW = [perMinute(2)]
  t.same(decide(ledger, tenantW, clientW, 0), { waitMs: 0, cause: 'none' })
  t.same(decide(ledger, tenantW, clientW, 10), { waitMs: 0, cause: 'none' })
  t.same(decide(ledger, tenantW, clientW, 20), { waitMs: 59_980, cause: 'client' }, 'the client share is spent first')
  t.same(ledger.tenant, [0, 10], 'a refused call is not recorded')
  const other = { tenant: ledger.tenant, client: [] as number[], holdUntil: 0 }
  t.same(decide(other, tenantW, clientW, 30), { waitMs: 0, cause: 'none' }, 'another client still has room')
  t.same(decide(other, tenantW, clientW, 40), { waitMs: 59_960, cause: 'tenant' }, 'then the tenant budget is spent')
  const held = { tenant: [] as number[], client: undefined, holdUntil: 5000 }
  t.same(decide(held, tenantW, [], 1000), { waitMs: 4000, cause: 'hold' }, 'an upstream hold blocks an empty budget')
  t.same(decide(held, tenantW, [], 5000), { waitMs: 0, cause: 'none' }, 'and ends at its time')
  t.same(held.tenant, [5000])
  const unlimited = { tenant: [] as number[], client: undefined, holdUntil: 0 }
  t.same(decide(unlimited, [], [], 0), { waitMs: 0, cause: 'none' })
  t.same(unlimited.tenant, [], 'classes without limits keep no log')
})

t.test('retryAfterSeconds rounds up and is at least 1', async (t) => {
  const rows: Array<[number, number]> = [[0, 1], [1, 1], [999, 1], [1000, 1], [1001, 2], [59_980, 60], [HOUR_MS, 3600]]
  for (const [ms, s] of rows) t.equal(retryAfterSeconds(ms), s, `${ms} ms`)
})

t.test('windowsOf and scaled follow the catalogue, null meaning no limit', async (t) => {
  t.same(windowsOf(RATE_CLASSES.default), [perMinute(100), perHour(1500)])
  t.same(windowsOf(RATE_CLASSES.startInvestigation), [perHour(50)])
  t.same(windowsOf(RATE_CLASSES.indicatorImport), [perMinute(30)])
  t.same(windowsOf(RATE_CLASSES.unlimited), [])
  t.same(windowsOf(RATE_CLASSES.default, 1 / 3), [perMinute(33), perHour(500)], 'fallback share per replica')
  t.equal(scaled(2, 0.1), 1, 'never below one call')
})

t.test('plan: overrides, unknown classes and client shares', async (t) => {
  const plan = createPlan({
    classes: RATE_CLASSES,
    overrides: { default: { perMinute: 80 }, exportFiles: { perHour: null }, packageUri: { perMinute: null, perHour: 10 } },
    clientShares: { SIEM: 0.5, full: 1 },
    defaultClientShare: 0.25
  })
  t.same(plan.tenant('default'), [perMinute(80), perHour(1500)], 'an override replaces one field')
  t.equal(plan.tenant('default'), plan.tenant('default'), 'cached')
  t.same(plan.tenant('exportFiles'), [perMinute(5)], 'null removes a limit')
  t.same(plan.tenant('packageUri'), [perHour(10)])
  t.same(plan.tenant('noSuchClass'), plan.tenant('default'), 'an unknown class gets the default budget')
  t.same(plan.client('default', 'siem'), [perMinute(40), perHour(750)], 'share names are case-insensitive')
  t.equal(plan.client('default', 'siem'), plan.client('default', 'Siem'), 'cached')
  t.same(plan.client('default', 'full'), [], 'a share of 1 adds no limit of its own')
  t.same(plan.client('liveResponse', 'other'), [perMinute(2)], 'unlisted clients get the default share')
  const plain = createPlan({ classes: RATE_CLASSES })
  t.same(plain.client('default', 'anyone'), [], 'no shares configured: clients only share the tenant budget')
  t.same(createPlan({ classes: RATE_CLASSES, scale: 0.5 }).tenant('alertBatchUpdate'), [perMinute(5), perHour(250)])
})

t.test('parseRetryAfter reads seconds and HTTP-dates', async (t) => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  const rows: Array<[unknown, number | undefined]> = [
    ['30', 30], [' 7 ', 7], ['0', 0], [['12', '99'], 12],
    ['Wed, 01 Jan 2025 00:00:45 GMT', 45], ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    [undefined, undefined], ['', undefined], ['soon', undefined], ['-5', undefined], ['1.5', undefined], [42, undefined], ['Someday GMT', undefined]
  ]
  for (const [value, expect] of rows) t.equal(parseRetryAfter(value, now), expect, JSON.stringify(value))
  t.equal(parseRetryAfter('3'), 3, 'default clock')
})
