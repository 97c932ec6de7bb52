import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { call, startWorld, withKey, TENANT_A } from '../helper.js'

t.test('server.tls serves HTTPS with the configured certificate', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-tls-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  let caPem = ''
  const world = await startWorld({
    config (base, sim) {
      return { ...base, server: { ...base.server, tls: { certFile: join(dir, 'gw.crt'), keyFile: join(dir, 'gw.key') } } }
    },
    async beforeGateway (sim) {
      const cert = await sim.ca.issueServerCert()
      caPem = sim.ca.certPem
      await writeFile(join(dir, 'gw.crt'), cert.certPem)
      await writeFile(join(dir, 'gw.key'), cert.keyPem)
    }
  })
  t.teardown(async () => { await world.close() })
  t.match(world.url, /^https:/)
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem), ca: caPem })
  t.equal(res.status, 200)
})

t.test('admin listener: health, readiness and a Prometheus scrape of bounded metrics', async (t) => {
  const world = await startWorld()
  t.teardown(async () => { await world.close() })
  t.equal((await call(world.adminUrl, '/healthz')).status, 200)
  t.equal((await call(world.adminUrl, '/readyz')).status, 200)
  await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  await call(world.url, `/tenants/${TENANT_A}/api/alerts`, {})
  const scrape = await call(world.adminUrl, '/metrics')
  t.equal(scrape.status, 200)
  t.match(scrape.headers['content-type'], /^text\/plain/)
  t.match(scrape.text, /defender_gateway_requests_total\{route="alerts.list",method="GET",status_class="2xx",client="siem",region="eu"\} 2/)
  t.match(scrape.text, /defender_gateway_requests_total\{route="unmatched",method="GET",status_class="4xx",client="anonymous",region="none"\} 1/)
  t.match(scrape.text, /defender_gateway_request_duration_seconds_bucket\{le="0.1",route="alerts.list",method="GET",status_class="2xx"\}/)
  t.match(scrape.text, /defender_gateway_token_acquisitions_total\{outcome="success",error_class="none"\} 1/)
  t.match(scrape.text, /defender_gateway_token_cache_hits_total 1/)
  t.match(scrape.text, /defender_gateway_policy_denials_total\{reason="GatewayUnauthenticated"\} 1/)
  t.notOk(scrape.text.includes(TENANT_A), 'no tenant label unless metrics.tenantLabel is on')
  t.notOk(scrape.text.includes(world.keys.siem), 'no key')
  await world.gateway.close()
  t.equal((await call(world.adminUrl, '/readyz').catch(() => ({ status: 503 }))).status, 503, 'not ready once closed')
})

t.test('metrics.tenantLabel adds the tenant to request metrics, only when asked', async (t) => {
  const world = await startWorld({ config: (base) => ({ ...base, metrics: { tenantLabel: true } }) })
  t.teardown(async () => { await world.close() })
  await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  await call(world.url, `/tenants/${TENANT_A}/api/alerts`, {})
  const scrape = (await call(world.adminUrl, '/metrics')).text
  t.match(scrape, `defender_gateway_requests_total{route="alerts.list",method="GET",status_class="2xx",client="siem",region="eu",tenant="${TENANT_A}"} 1`)
  t.match(scrape, 'defender_gateway_requests_total{route="unmatched",method="GET",status_class="4xx",client="anonymous",region="none",tenant="none"} 1')
  t.match(scrape, `defender_gateway_request_duration_seconds_count{route="alerts.list",method="GET",status_class="2xx",tenant="${TENANT_A}"} 1`)
})
