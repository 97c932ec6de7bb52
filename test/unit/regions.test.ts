import t from 'tap'
import { INITIAL_HEALTH, isAvailable, recordFailure, recordPassive, recordSuccess, type RegionHealth } from '../../src/regions/health.js'
import { rankRegions, regionList } from '../../src/regions/select.js'
import { CLOUDS, regionTable } from '../../src/regions/clouds.js'

const table = regionList({ eu: 'https://eu.example/', us: 'https://us.example', uk: 'https://uk.example' })
const h = (rttMs: number | undefined, downUntil = 0, failures = 0): RegionHealth => ({ rttMs, failures, downUntil })
const NOW = 1_000_000

// One row per situation: health per region, configured region, tenant residency → expected try order.
const rows: Array<[string, Record<string, RegionHealth>, string, string[] | undefined, string[]]> = [
  ['unmeasured: table order', {}, 'auto', undefined, ['eu', 'us', 'uk']],
  ['fastest first', { eu: h(60), us: h(5), uk: h(20) }, 'auto', undefined, ['us', 'uk', 'eu']],
  ['measured before unmeasured', { uk: h(80) }, 'auto', undefined, ['uk', 'eu', 'us']],
  ['down regions last, soonest back first', { eu: h(5, NOW + 5000), us: h(50, NOW + 1000), uk: h(90) }, 'auto', undefined, ['uk', 'us', 'eu']],
  ['backoff over: back in rotation', { eu: h(5, NOW - 1) }, 'auto', undefined, ['eu', 'us', 'uk']],
  ['residency never left', { eu: h(5), us: h(50), uk: h(1) }, 'auto', ['us', 'eu'], ['eu', 'us']],
  ['residency with everything down', { us: h(5, NOW + 10) }, 'auto', ['us'], ['us']],
  ['fixed region leads', { eu: h(60), us: h(5) }, 'eu', undefined, ['eu', 'us', 'uk']],
  ['fixed region down: next by latency', { eu: h(60, NOW + 100), us: h(5), uk: h(9) }, 'eu', undefined, ['us', 'uk', 'eu']],
  ['fixed region outside residency is ignored', { us: h(5) }, 'uk', ['us', 'eu'], ['us', 'eu']],
  ['empty residency: nowhere to go', {}, 'auto', [], []]
]
for (const [name, health, configured, allowed, expected] of rows) {
  t.test(name, async (t) => {
    t.same(rankRegions(table, new Map(Object.entries(health)), configured, allowed, NOW).map((r) => r.name), expected)
  })
}

t.test('health: smoothing, passive samples only lower the estimate, exponential jittered backoff', async (t) => {
  let x = recordSuccess(INITIAL_HEALTH, 100)
  t.equal(x.rttMs, 100)
  x = recordSuccess(x, 0)
  t.equal(x.rttMs, 70, 'one sample moves the average by 30%')
  t.equal(recordPassive(x, 500).rttMs, 70, 'a slow answer may be a slow query')
  t.equal(recordPassive(x, 10).rttMs, 52, 'a fast answer proves a fast path')
  t.equal(recordPassive(INITIAL_HEALTH, 10).rttMs, 10)
  const f1 = recordFailure(x, NOW, () => 0.5)
  t.equal(f1.downUntil, NOW + 1000)
  const f3 = recordFailure(recordFailure(f1, NOW, () => 0.5), NOW, () => 0)
  t.equal(f3.failures, 3)
  t.equal(f3.downUntil, NOW + 4000 * 0.8)
  let many = f3
  for (let i = 0; i < 20; i++) many = recordFailure(many, NOW, () => 1)
  t.equal(many.downUntil, NOW + 60_000 * 1.2, 'capped at 60 s (plus jitter)')
  t.notOk(isAvailable(f1, NOW))
  t.ok(isAvailable(f1, NOW + 1000))
  t.equal(recordSuccess(many, 5).failures, 0, 'an answer resets the failures')
})

t.test('cloud tables: public regions, gov hosts, overrides replace the table', async (t) => {
  t.same(Object.keys(CLOUDS.public.regions), ['us', 'eu', 'uk', 'au', 'swa', 'ina', 'aea', 'global'])
  t.equal(CLOUDS['gcc-high'].loginHost, 'https://login.microsoftonline.us')
  t.equal(CLOUDS.dod.regions.gov, 'https://api-gov.securitycenter.microsoft.us')
  t.equal(CLOUDS.gcc.resource, 'https://api-gcc.securitycenter.microsoft.us')
  t.same(regionTable('public', { lab: 'https://lab' }), { lab: 'https://lab' })
  t.equal(regionTable('public', {}), CLOUDS.public.regions)
  t.equal(regionList({ a: 'https://a.example//' })[0]!.url, 'https://a.example')
})
