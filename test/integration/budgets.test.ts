import t from 'tap'
import { call, startWorld, withKey, TENANT_A, TENANT_B } from '../helper.js'

t.test('a spent (tenant, class) budget answers 429 RateLimited with Retry-After, and nothing is forwarded', async (t) => {
  const world = await startWorld({
    config: (base) => ({ ...base, limits: { maxWaitMs: 0, classes: { default: { perMinute: 5, perHour: 100 }, advancedQuery: { perMinute: 2, perHour: 100 } } } })
  })
  t.teardown(async () => { await world.close() })
  const eu = world.sim.regions.eu!
  eu.reset()
  const statuses: number[] = []
  for (let i = 0; i < 7; i++) statuses.push((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status)
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429])
  const limited = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(JSON.parse(limited.text).error.code, 'RateLimited')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} s`)
  t.equal(eu.received.filter((r) => r.url.startsWith('/api/alerts')).length, 5, 'Defender saw only the budget')
  t.equal((await call(world.url, `/tenants/${TENANT_B}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200, 'another tenant has its own budget')
  const query = async (): Promise<number> => (await call(world.url, `/tenants/${TENANT_A}/api/advancedqueries/run`, { method: 'POST', headers: withKey(world.keys.siem, { 'content-type': 'application/json' }), body: '{"Query":"x"}' })).status
  t.same([await query(), await query(), await query()], [200, 200, 429], 'advanced queries have their own, smaller class')
  const scrape = (await call(world.adminUrl, '/metrics')).text
  t.match(scrape, /defender_gateway_rate_budget_decisions_total\{rate_class="default",outcome="denied_budget"\} [1-9]/)
})

t.test('Defender\'s 429 holds the (tenant, class) until its Retry-After, with no calls meanwhile', async (t) => {
  const world = await startWorld({ config: (base) => ({ ...base, limits: { ...base.limits, maxWaitMs: 0 } }) })
  t.teardown(async () => { await world.close() })
  const eu = world.sim.regions.eu!
  eu.setFault({ kind: 'status', status: 429, times: 1 })
  const first = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(first.status, 429)
  t.equal(JSON.parse(first.text).error.code, 'TooManyRequests', 'Defender\'s own answer passes through')
  const before = eu.received.length
  const held = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(held.status, 429)
  t.equal(JSON.parse(held.text).error.code, 'RateLimited')
  t.equal(eu.received.length, before, 'held: nothing sent to Defender')
  t.equal((await call(world.url, `/tenants/${TENANT_B}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200, 'other tenants unaffected')
  await new Promise((resolve) => setTimeout(resolve, 1100))
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200, 'served again once Retry-After passed')
})
