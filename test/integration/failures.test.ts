import t from 'tap'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { until } from '../redis-clients.js'
import { ADMIN_TOKEN, call, startWorld, withKey, TENANT_A, TENANT_B, CLIENT_SECRET, type TestWorld } from '../helper.js'

const UNCONSENTED = '44444444-4444-4444-8444-444444444444'
let world: TestWorld
t.before(async () => {
  world = await startWorld({
    config (base) {
      return {
        ...base,
        // no backoff of the gateway's own, so each case below reaches Entra (backoff: tokens-*.test.ts)
        tokens: { timeoutMs: 1500, backoff: { initialMs: 0 } },
        // one region only: failover to another region is tested elsewhere
        upstream: { ...base.upstream, regions: { eu: base.upstream.regions.eu }, region: 'eu', timeoutMs: 1500, connectTimeoutMs: 1000 },
        tenants: [...base.tenants, { id: UNCONSENTED, name: 'newcustomer', permissions: ['Alert.Read.All'] }]
      }
    }
  })
})
t.teardown(async () => { await world.close() })

const errorOf = (text: string): { code: string, message: string, target: string } => JSON.parse(text).error
const alerts = async (tenant: string): ReturnType<typeof call> =>
  await call(world.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })

t.test('Entra ID errors become 503 TokenUnavailable with a useful message and no secret', async (t) => {
  const eu = world.sim.regions.eu!
  eu.reset()
  const cases: Array<[string, Parameters<typeof world.sim.entra.setFault>[1], string]> = [
    ['server error', { kind: 'status', status: 500 }, 'could not issue a token'],
    ['throttled', { kind: 'status', status: 429 }, 'could not issue a token'],
    ['bad credential', { kind: 'status', status: 401, aadsts: 7000215, error: 'invalid_client' }, 'credential'],
    ['non-JSON answer', { kind: 'non-json', status: 502 }, 'could not issue a token'],
    ['empty answer', { kind: 'empty' }, 'no access token'],
    ['hangs past the timeout', { kind: 'hang' }, 'could not issue a token']
  ]
  for (const [name, fault, words] of cases) {
    world.gateway.app.log.info({ case: name }, 'case')
    world.sim.entra.setFault(TENANT_B, fault)
    const res = await alerts(TENANT_B)
    t.equal(res.status, 503, name)
    const err = errorOf(res.text)
    t.equal(err.code, 'TokenUnavailable', name)
    t.match(err.message, words, name)
    t.notOk(res.text.includes(CLIENT_SECRET), `${name}: no secret in the answer`)
  }
  world.sim.entra.setFault(TENANT_B, undefined)
  t.equal(eu.received.length, 0, 'nothing was forwarded while no token could be had')
  const ok = await alerts(TENANT_B)
  t.equal(ok.status, 200, 'the tenant recovers as soon as Entra does')
  const metrics = await call(world.adminUrl, '/metrics')
  t.match(metrics.text, /defender_gateway_token_acquisitions_total\{outcome="failure",error_class="bad-credential"\} 1/)
  t.match(metrics.text, /defender_gateway_token_acquisitions_total\{outcome="failure",error_class="transient"\} \d/)
})

t.test('a tenant that never consented: 403 TenantNotOnboarded with its consent link, remembered briefly', async (t) => {
  world.sim.entra.resetCounts()
  const first = await alerts(UNCONSENTED)
  t.equal(first.status, 403)
  const err = errorOf(first.text)
  t.equal(err.code, 'TenantNotOnboarded')
  t.match(err.message, `${UNCONSENTED}/adminconsent?client_id=`)
  const second = await alerts('newcustomer')
  t.equal(errorOf(second.text).code, 'TenantNotOnboarded')
  t.equal(world.sim.entra.tokenRequests(UNCONSENTED), 1, 'Entra asked once, not per request')
})

t.test('Defender unreachable: 502 UpstreamUnavailable; hanging: 504 UpstreamTimeout', async (t) => {
  const eu = world.sim.regions.eu!
  eu.setFault({ kind: 'reset' })
  const reset = await alerts(TENANT_A)
  t.equal(reset.status, 502)
  t.equal(errorOf(reset.text).code, 'UpstreamUnavailable')
  t.equal(errorOf(reset.text).target, reset.headers['x-request-id'])
  eu.setFault({ kind: 'hang' })
  const hang = await alerts(TENANT_A)
  t.equal(hang.status, 504)
  t.equal(errorOf(hang.text).code, 'UpstreamTimeout')
  eu.setFault(undefined)
  t.equal((await alerts(TENANT_A)).status, 200, 'back to normal')
})

t.test('Defender breaks off a small answer half-way: a clean 502 in Defender\'s shape, not a truncated 200', async (t) => {
  const eu = world.sim.regions.eu!
  eu.setFault({ kind: 'truncate' })
  const cut = await alerts(TENANT_A)
  t.equal(cut.status, 502)
  t.match(cut.headers['content-type'], /^application\/json/)
  t.equal(errorOf(cut.text).code, 'UpstreamUnavailable')
  t.equal(errorOf(cut.text).target, cut.headers['x-request-id'])
  eu.setFault(undefined)
  t.equal((await alerts(TENANT_A)).status, 200, 'back to normal')
})

t.test('Defender\'s own errors pass through unchanged, 429 with its Retry-After', async (t) => {
  const eu = world.sim.regions.eu!
  eu.setFault({ kind: 'status', status: 429, times: 1 })
  const limited = await alerts(TENANT_A)
  t.equal(limited.status, 429)
  t.equal(limited.headers['retry-after'], '1')
  t.equal(errorOf(limited.text).code, 'TooManyRequests', 'Defender\'s body, not ours')
  eu.setFault({ kind: 'status', status: 500, times: 1 })
  const broken = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(broken.status, 500, 'a Defender 5xx reaches the caller as it was')
  t.equal(errorOf(broken.text).code, 'InternalServerError')
  const missing = await call(world.url, `/tenants/${TENANT_A}/api/alerts/nope`, { headers: withKey(world.keys.siem) })
  t.equal(missing.status, 404)
  t.equal(errorOf(missing.text).code, 'ResourceNotFound')
  t.ok(missing.headers['x-request-id'], 'our request id on upstream answers too')
})

t.test('a caller hanging up mid-upload does not count against the region', async (t) => {
  const eu = world.sim.regions.eu!
  eu.reset()
  const { port } = new URL(world.url)
  const socket = connect(Number(port), '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(`POST /tenants/${TENANT_A}/api/indicators HTTP/1.1\r\nhost: gw\r\nx-api-key: ${world.keys.siem}\r\n` +
    'content-type: application/json\r\ncontent-length: 100000\r\n\r\n{"indicatorValue":"')
  await until(() => eu.received.length > 0)
  t.equal(eu.received.length, 1, 'the upload reached Defender')
  socket.destroy()
  // past upstream.timeoutMs (1.5 s here): the call to Defender has ended one way or the other. A slow
  // machine can only make this wait too short, which lets a bug pass, never a correct gateway fail.
  await sleep(2000)
  const regions = JSON.parse((await call(world.adminUrl, '/admin/regions', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text)
  const region = regions.regions.find((r: { name: string }) => r.name === 'eu')
  t.equal(region.failures, 0, 'no failure recorded')
  t.equal(region.available, true, JSON.stringify(region))
  t.equal((await alerts(TENANT_A)).status, 200)
})
