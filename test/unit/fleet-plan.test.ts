import t from 'tap'
import { CURSOR_BOUNDS, type TenantPosition } from '../../src/fleet/cursor.js'
import { fitsTailBudget, nextActive, planPage, type ReadResult } from '../../src/fleet/plan.js'

const ids = Array.from({ length: 10 }, (_, i) => `0000000${i}-0000-4000-8000-000000000000`)
const [a, b, c, d, e] = ids as [string, string, string, string, string]
const T = '/api/alerts?$top=5'

t.test('the first page starts tenants in id order up to the window', async (t) => {
  t.same(planPage(ids, { target: T, frontier: '', active: [] }, 3), { reads: [{ tenant: a }, { tenant: b }, { tenant: c }], frontier: c, notStarted: 7, done: 0, gone: [] })
  t.same(planPage(ids.slice(0, 2), { target: T, frontier: '', active: [] }, 5), { reads: [{ tenant: a }, { tenant: b }], frontier: b, notStarted: 0, done: 0, gone: [] })
})

t.test('in-progress tenants come first; new ones fill the window after the frontier', async (t) => {
  const plan = planPage(ids, { target: T, frontier: c, active: [{ tenant: b, link: '/api/alerts?$skip=5' }] }, 3)
  t.same(plan.reads, [{ tenant: b, link: '/api/alerts?$skip=5' }, { tenant: d }, { tenant: e }])
  t.equal(plan.frontier, e)
  t.equal(plan.done, 2, 'a and c: up to the frontier and not in progress')
  t.equal(plan.notStarted, 5)
})

t.test('tenants no longer eligible (config reload, narrower header) drop out; a full window starts nobody', async (t) => {
  const plan = planPage([a, c, d], { target: T, frontier: c, active: [{ tenant: b }, { tenant: c, link: '/x' }] }, 1)
  t.same(plan.reads, [{ tenant: c, link: '/x' }])
  t.equal(plan.frontier, c, 'the window is full: the frontier stays')
  t.same({ done: plan.done, notStarted: plan.notStarted }, { done: 1, notStarted: 1 })
  t.same(plan.gone, [{ tenant: b }], 'the one in progress that left is named, for the page to report')
  t.equal(planPage(ids, { target: T, frontier: '', active: [] }, 1000).reads.length, Math.min(ids.length, CURSOR_BOUNDS.maxInProgress))
})

t.test('new tenants start only while the cursor is likely to hold their positions', async (t) => {
  const long = (n: number): TenantPosition => ({ tenant: ids[n]!, link: `${T}&$skiptoken=${'x'.repeat(500)}` })
  const plan = planPage(ids, { target: T, frontier: ids[1]!, active: [long(0), long(1)] }, 10)
  t.same(plan.reads.map((p) => p.tenant), [a, b, c], 'two tails of ~512 leave room for about one more')
  t.equal(planPage(ids, { target: T, frontier: b, active: [{ tenant: a, link: `${T}&$skip=5` }] }, 10).reads.length, 9, 'short tails: the window decides')
})

t.test('the last page: nothing in progress, nothing left', async (t) => {
  t.same(planPage(ids, { target: T, frontier: ids[9]!, active: [] }, 5), { reads: [], frontier: ids[9], notStarted: 0, done: 10, gone: [] })
})

t.test('next positions: unread and failed first (fairness), moved on after, finished and dropped gone', async (t) => {
  const reads: TenantPosition[] = [{ tenant: a }, { tenant: b, link: '/l1' }, { tenant: c }, { tenant: d, failures: 1 }, { tenant: e }]
  const results = new Map<string, ReadResult>([
    [a, { tenant: a, kind: 'next', link: '/l2' }],
    [b, { tenant: b, kind: 'complete' }],
    [c, { tenant: c, kind: 'dropped' }],
    [d, { tenant: d, kind: 'failed' }]
  ])
  t.same(nextActive(reads, results), [{ tenant: d, failures: 2 }, { tenant: e }, { tenant: a, link: '/l2' }])
  t.same(nextActive(reads, new Map([[e, { tenant: e, kind: 'kept' }]])), reads, 'a page that read nothing changes nothing')
})

t.test('the tail budget counts every position but the one replaced', async (t) => {
  const target = '/api/alerts?$top=5'
  const long = `${target}&$skiptoken=${'x'.repeat(CURSOR_BOUNDS.tailBudget - 20)}`
  const positions = new Map<string, TenantPosition>([[a, { tenant: a, link: long }], [b, { tenant: b }]])
  t.notOk(fitsTailBudget(target, positions, b, `${target}&$skip=${'1'.repeat(20)}`), 'no room beside a long tail')
  t.ok(fitsTailBudget(target, positions, b, `${target}&$skip=5`), 'room for a short one')
  t.ok(fitsTailBudget(target, positions, a, `${target}&$skip=10`), "a tenant's own old tail does not count against it")
})
