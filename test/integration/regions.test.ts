import t from 'tap'
import { call, startWorld, withKey, ADMIN_TOKEN, TENANT_A, TENANT_B, type TestWorld } from '../helper.js'

const PINNED = '55555555-5555-4555-8555-555555555555'

async function slowEuFastUs (): Promise<TestWorld> {
  return await startWorld({
    sim: { latencyMs: { eu: 60, us: 5 }, defender: { ratePerMinute: 1_000_000 } },
    grants: { [TENANT_A]: ['Alert.Read.All', 'Machine.Isolate', 'Machine.Read.All'], [TENANT_B]: ['Alert.Read.All'], [PINNED]: ['Alert.Read.All'] },
    config: (base) => ({
      ...base,
      tenants: [...base.tenants, { id: PINNED, name: 'pinned', permissions: ['Alert.Read.All'], regions: ['us'] }]
    })
  })
}

const alerts = async (w: TestWorld, tenant: string): ReturnType<typeof call> =>
  await call(w.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(w.keys.siem) })

t.test('auto measures the regions and sends traffic to the faster one', async (t) => {
  const w = await slowEuFastUs()
  t.teardown(async () => { await w.close() })
  const { eu, us } = w.sim.regions as Record<'eu' | 'us', typeof w.sim.regions.eu & object>
  eu.reset(); us.reset()
  for (let i = 0; i < 20; i++) t.equal((await alerts(w, TENANT_A)).status, 200)
  t.equal(us.received.length, 20, 'all 20 went to the 5 ms region')
  t.equal(eu.received.length, 0)
  const view = await call(w.adminUrl, '/admin/regions', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(view.status, 200)
  const body = view.json()
  const rtt = Object.fromEntries(body.regions.map((r: { name: string, rttMs: number }) => [r.name, r.rttMs]))
  t.ok(rtt.us < rtt.eu, `measured us ${rtt.us} ms < eu ${rtt.eu} ms`)
  t.same(body.tenants.find((x: { id: string }) => x.id === TENANT_A).order, ['us', 'eu'])
  t.same(body.tenants.find((x: { id: string }) => x.id === PINNED).order, ['us'], 'residency shown in the choice')
  t.equal((await call(w.adminUrl, '/admin/regions')).status, 401, 'admin API needs the admin token')
  t.equal((await call(w.adminUrl, '/admin/regions', { headers: { authorization: 'Bearer wrong' } })).status, 401)
  const scrape = (await call(w.adminUrl, '/metrics')).text
  t.match(scrape, /defender_gateway_region_rtt_seconds\{region="us"\} 0\.0/)
  t.match(scrape, /defender_gateway_region_up\{region="eu"\} 1/)
  t.match(scrape, /defender_gateway_region_selections_total\{region="us"\} 20/)
})

t.test('stopping the fastest region moves traffic to the next with zero failed GETs', async (t) => {
  const w = await slowEuFastUs()
  t.teardown(async () => { await w.close() })
  const { eu, us } = w.sim.regions as Record<'eu' | 'us', typeof w.sim.regions.eu & object>
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) {
    if (i === 10) us.setFault({ kind: 'reset' })
    statuses.push((await alerts(w, TENANT_A)).status)
  }
  t.same(statuses, Array(30).fill(200), 'every GET succeeded')
  t.ok(eu.received.filter((r) => r.url.startsWith('/api/alerts')).length >= 20, 'the rest went to eu')
  const scrape = (await call(w.adminUrl, '/metrics')).text
  // us is retried only when its backoff (1 s, 2 s, 4 s...) runs out, so a few failovers, not one per request
  const failovers = Number(/defender_gateway_region_failovers_total\{from="us",to="eu"\} (\d+)/.exec(scrape)?.[1] ?? 0)
  t.ok(failovers >= 1 && failovers <= 4, `${failovers} failovers for 20 GETs after the outage`)
  t.match(scrape, /defender_gateway_region_up\{region="us"\} 0/)
})

t.test('a POST to a dead region gets 502 and reaches no other region', async (t) => {
  const w = await slowEuFastUs()
  t.teardown(async () => { await w.close() })
  const { eu, us } = w.sim.regions as Record<'eu' | 'us', typeof w.sim.regions.eu & object>
  us.setFault({ kind: 'reset' })
  eu.reset()
  const res = await call(w.url, `/tenants/${TENANT_A}/api/machines/abc/isolate`, {
    method: 'POST', headers: withKey(w.keys.ops, { 'content-type': 'application/json' }), body: '{"Comment":"once only"}'
  })
  t.equal(res.status, 502)
  t.equal(JSON.parse(res.text).error.code, 'UpstreamUnavailable')
  t.equal(us.received.filter((r) => r.method === 'POST').length, 1, 'tried once at us')
  t.equal(eu.received.length, 0, 'never sent to eu')
})

t.test('a residency-pinned tenant never reaches another region, even when its region is down', async (t) => {
  const w = await slowEuFastUs()
  t.teardown(async () => { await w.close() })
  const { eu, us } = w.sim.regions as Record<'eu' | 'us', typeof w.sim.regions.eu & object>
  eu.reset()
  t.equal((await alerts(w, PINNED)).status, 200)
  us.setFault({ kind: 'reset' })
  const res = await alerts(w, PINNED)
  t.equal(res.status, 502)
  t.equal((await alerts(w, TENANT_B)).status, 200, 'other tenants fail over meanwhile')
  t.equal(eu.received.filter((r) => r.tenant === PINNED).length, 0, 'the pinned tenant never reached eu')
})

t.test('a region that recovers comes back through the probes', async (t) => {
  const w = await startWorld({
    sim: { latencyMs: { eu: 40, us: 5 }, defender: { ratePerMinute: 1_000_000 } },
    config: (base) => ({ ...base, upstream: { ...base.upstream, probeIntervalMs: 1000 } })
  })
  t.teardown(async () => { await w.close() })
  const { us } = w.sim.regions as Record<'eu' | 'us', typeof w.sim.regions.eu & object>
  us.setFault({ kind: 'reset' })
  t.equal((await alerts(w, TENANT_A)).status, 200, 'failed over')
  us.setFault(undefined)
  let order: string[] = []
  for (let i = 0; i < 100 && order[0] !== 'us'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    order = w.gateway.regions.rank(undefined).map((r) => r.name)
  }
  t.equal(order[0], 'us', 'us is first again after its backoff and a good probe')
})
