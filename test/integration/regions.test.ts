import { readFile } from 'node:fs/promises'
import t from 'tap'
import { createProbe } from '../../src/regions/prober.js'
import { outboundTlsContext } from '../../src/trust.js'
import { startSimWorld } from '../sim/index.js'
import { call, startWorld, withKey, ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET, TENANT_A, TENANT_B, type TestWorld } from '../helper.js'

// No test here compares two measured times (a busy machine inverted `us 248 ms < eu 69 ms`): the
// worlds' probes report fixed RTTs (us 1 ms, eu 1 s) and real traffic, which only lowers an estimate,
// takes at least the simulated latency (us 5 ms, eu 60 ms), so the order cannot flip. The real probe's
// measurement is checked against a lower bound, which load cannot break.

const PINNED = '55555555-5555-4555-8555-555555555555'

async function slowEuFastUs (): Promise<TestWorld> {
  return await startWorld({
    sim: { latencyMs: { eu: 60, us: 5 }, defender: { ratePerMinute: 1_000_000 } },
    rttMs: { us: 1, eu: 1000 },
    grants: { [TENANT_A]: ['Alert.Read.All', 'Machine.Isolate', 'Machine.Read.All'], [TENANT_B]: ['Alert.Read.All'], [PINNED]: ['Alert.Read.All'] },
    config: (base) => ({
      ...base,
      tenants: [...base.tenants, { id: PINNED, name: 'pinned', permissions: ['Alert.Read.All'], regions: ['us'] }]
    })
  })
}

const alerts = async (w: TestWorld, tenant: string): ReturnType<typeof call> =>
  await call(w.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(w.keys.siem) })

t.test('the real probe measures at least the simulated latency, and a region that answers is up', async (t) => {
  const sim = await startSimWorld({ clientId: CLIENT_ID, clientSecrets: [CLIENT_SECRET], grants: {}, latencyMs: { eu: 80, us: 0 } })
  const probe = createProbe({ tlsContext: outboundTlsContext(await readFile(sim.caFile, 'utf8')), timeoutMs: 60_000 })
  t.teardown(async () => { probe.close(); await sim.close() })
  const eu = { name: 'eu', url: sim.regions.eu!.url }
  const us = { name: 'us', url: sim.regions.us!.url }
  await probe(eu) // the first probe includes the TLS handshake
  const result = await probe(eu)
  t.ok(result.ok && result.rttMs >= 79, `eu measured ${result.ok ? result.rttMs.toFixed(1) : 'failed'} ms, at least its 80 ms latency`)
  t.match(await probe(us), { ok: true }, 'us answers')
  sim.regions.us!.setFault({ kind: 'reset' })
  t.match(await probe(us), { ok: false }, 'a reset region is down')
})

t.test('auto ranks the regions by probed RTT and sends traffic to the faster one', async (t) => {
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
  t.same(rtt, { us: 1, eu: 1000 }, 'the probed RTTs are shown')
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
  let outageAt = 0
  for (let i = 0; i < 30; i++) {
    if (i === 10) { us.setFault({ kind: 'reset' }); outageAt = performance.now() }
    statuses.push((await alerts(w, TENANT_A)).status)
  }
  const outageMs = performance.now() - outageAt
  t.same(statuses, Array(30).fill(200), 'every GET succeeded')
  t.ok(eu.received.filter((r) => r.url.startsWith('/api/alerts')).length >= 20, 'the rest went to eu')
  const scrape = (await call(w.adminUrl, '/metrics')).text
  // us is retried only when its backoff (at least 0.8 s, 1.6 s, 3.2 s...) runs out: within the time the
  // 20 GETs took, at most 1 + log2(time / 0.8 s + 1) tries, however slow the machine made them.
  const failovers = Number(/defender_gateway_region_failovers_total\{from="us",to="eu"\} (\d+)/.exec(scrape)?.[1] ?? 0)
  const bound = 1 + Math.floor(Math.log2(outageMs / 800 + 1))
  t.ok(failovers >= 1 && failovers <= bound, `${failovers} failovers for 20 GETs in ${Math.round(outageMs)} ms after the outage (at most ${bound})`)
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
    rttMs: { us: 1, eu: 1000 },
    config: (base) => ({ ...base, upstream: { ...base.upstream, probeIntervalMs: 1000 } })
  })
  t.teardown(async () => { await w.close() })
  const { us } = w.sim.regions as Record<'eu' | 'us', typeof w.sim.regions.eu & object>
  us.setFault({ kind: 'reset' })
  t.equal((await alerts(w, TENANT_A)).status, 200, 'failed over')
  us.setFault(undefined)
  // Polls a condition; the bound only ends a wait that would never succeed.
  const first = (): string | undefined => w.gateway.regions.rank(undefined)[0]?.name
  for (let i = 0; i < 600 && first() !== 'us'; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(first(), 'us', 'us is first again after its backoff and a good probe')
})
