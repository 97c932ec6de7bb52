import t from 'tap'
import { AggregatorRegistry } from 'prom-client'
import { RATE_CLASSES } from '../../src/policy/catalogue-data.js'
import { createPlan, indivisibleLimits } from '../../src/limits/plan.js'
import { createRateBudgets } from '../../src/limits/create-budgets.js'
import { divided, HOUR_MS, MINUTE_MS } from '../../src/limits/window.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createRegionMetrics } from '../../src/observability/region-metrics.js'
import { restartDelay } from '../../src/cluster/restart-policy.js'
import type { LimitsConfig } from '../../src/config/schema.js'
import { buildFromObject } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'
import { fakeClock } from '../fake-clock.js'

/** The pure parts of server.workers: budget division, the restart policy, and how scrapes merge. */

const A = '11111111-1111-4111-8111-111111111111'

t.test('server.workers: an integer from 1 to 64, default 1', async (t) => {
  const load = (server: Record<string, unknown>): number | readonly string[] => {
    const raw = { server, identity: { clientId: '0a0b0c0d-1111-4222-8333-444455556666', secret: { fromEnv: 'S' } } }
    try {
      return buildFromObject(raw, { source: 'test', baseDir: '.', env: { S: 'x' } }).config.server.workers
    } catch (err) {
      if (err instanceof ConfigError) return err.problems
      throw err
    }
  }
  t.equal(load({}), 1)
  t.equal(load({ workers: 64 }), 64)
  for (const bad of [0, 65, 1.5, '2']) t.match(load({ workers: bad }), [/^server\.workers: /], `${String(bad)} refused`)
})

t.test('divided: each part rounded down, so the parts never add up to more than the limit; never below 1', async (t) => {
  const rows: Array<[limit: number, parts: number, each: number]> = [
    [100, 1, 100], [100, 2, 50], [100, 3, 33], [1500, 7, 214], [4, 2, 2], [5, 2, 2], [98, 49, 2], [2, 2, 1], [2, 3, 1], [1, 64, 1]
  ]
  for (const [limit, parts, each] of rows) {
    t.equal(divided(limit, parts), each, `${limit} / ${parts}`)
    if (limit >= parts) t.ok(each * parts <= limit, `${parts} × ${each} ≤ ${limit}`)
  }
})

t.test('a plan with parts divides the tenant windows, and client shares apply to the part', async (t) => {
  const plan = createPlan({ classes: RATE_CLASSES, overrides: { default: { perMinute: 4 } }, clientShares: { siem: 0.5 }, parts: 2 })
  t.same(plan.tenant('default'), [{ ms: MINUTE_MS, limit: 2 }, { ms: HOUR_MS, limit: 750 }])
  t.same(plan.tenant('exportFiles'), [{ ms: MINUTE_MS, limit: 2 }, { ms: HOUR_MS, limit: 10 }], 'catalogue classes too (5/min, 20/h)')
  t.same(plan.tenant('unlimited'), [], 'no limit stays no limit')
  t.same(plan.client('default', 'siem'), [{ ms: MINUTE_MS, limit: 1 }, { ms: HOUR_MS, limit: 375 }])
  t.same(createPlan({ classes: RATE_CLASSES }).tenant('default'), [{ ms: MINUTE_MS, limit: 100 }, { ms: HOUR_MS, limit: 1500 }], 'one process: untouched')
  t.same(createPlan({ classes: RATE_CLASSES, scale: 0.5, parts: 2 }).tenant('default'), [{ ms: MINUTE_MS, limit: 25 }, { ms: HOUR_MS, limit: 375 }],
    'Redis fallback: the replica share, then the worker part')
})

t.test('in-memory budgets of one worker of two allow half of perMinute 4', async (t) => {
  const limits: LimitsConfig = { maxWaitMs: 0, maxTenants: 10, clientShares: {}, defaultClientShare: 1, fallbackShare: 1, classes: { default: { perMinute: 4 } } }
  const clock = fakeClock()
  const budgets = createRateBudgets(limits, { workers: 2, clock })
  const answers = []
  for (let i = 0; i < 3; i++) answers.push((await budgets.take(A, 'default', 'siem')).ok)
  t.same(answers, [true, true, false])
  const single = createRateBudgets(limits, { clock })
  const alone = []
  for (let i = 0; i < 5; i++) alone.push((await single.take(A, 'default', 'siem')).ok)
  t.same(alone, [true, true, true, true, false], 'without workers: the whole limit')
})

t.test('indivisibleLimits names the limits smaller than the worker count', async (t) => {
  t.same(indivisibleLimits({ classes: RATE_CLASSES }, 1), [])
  t.same(indivisibleLimits({ classes: RATE_CLASSES }, 2), [], 'the catalogue splits in two')
  t.same(indivisibleLimits({ classes: RATE_CLASSES }, 3), ['packageUri.perMinute (2)'])
  t.same(indivisibleLimits({ classes: RATE_CLASSES, overrides: { default: { perMinute: 2 }, packageUri: { perMinute: null } } }, 3),
    ['default.perMinute (2)'], 'overrides count; null removes a limit')
})

t.test('restartDelay: doubling from 250 ms, capped, then giving up', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelay(n)), [250, 500, 1000, 2000, 4000, 8000, undefined])
  t.equal(restartDelay(0), 250)
  t.equal(restartDelay(5, { baseMs: 100, maxMs: 300, maxStreak: 10 }), 300)
})

t.test('merging two workers\' registries: counters and histograms sum, gauges keep their meaning', async (t) => {
  const workers = [createMetrics('1.2.3'), createMetrics('1.2.3')]
  const regions = workers.map((m) => createRegionMetrics(m.registry))
  const labels = { route: 'alerts.list', method: 'GET', status_class: '2xx', client: 'siem', region: 'eu' }
  workers[0]!.requests.inc(labels, 3)
  workers[1]!.requests.inc(labels, 4)
  workers[0]!.requestDuration.observe({ route: 'alerts.list', method: 'GET', status_class: '2xx' }, 0.02)
  workers[1]!.requestDuration.observe({ route: 'alerts.list', method: 'GET', status_class: '2xx' }, 0.2)
  regions[0]!.rtt.set({ region: 'eu' }, 0.01)
  regions[1]!.rtt.set({ region: 'eu' }, 0.03)
  regions[0]!.up.set({ region: 'eu' }, 1)
  regions[1]!.up.set({ region: 'eu' }, 0)
  const merged = await AggregatorRegistry.aggregate(await Promise.all(workers.map(async (m) => await m.registry.getMetricsAsJSON()))).metrics()
  t.match(merged, /^defender_gateway_requests_total\{[^}]*\} 7$/m)
  t.match(merged, /^defender_gateway_request_duration_seconds_count\{[^}]*\} 2$/m)
  t.match(merged, /^defender_gateway_request_duration_seconds_bucket\{le="0.025",[^}]*\} 1$/m)
  t.match(merged, /^defender_gateway_build_info\{version="1.2.3"\} 1$/m, 'not 2')
  t.match(merged, /^defender_gateway_region_rtt_seconds\{region="eu"\} 0.02$/m, 'the mean')
  t.match(merged, /^defender_gateway_region_up\{region="eu"\} 0$/m, 'up only if up everywhere')
})
