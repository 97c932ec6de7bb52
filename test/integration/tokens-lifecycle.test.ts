import t from 'tap'
import { ALL_ROLES, call, startWorld, TENANT_A, TENANT_B, withKey, type TestWorld } from '../helper.js'

// Failure classes through the gateway against the simulated Entra ID, counting its token requests.
const THROTTLED = '55555555-5555-4555-8555-555555555555'
const BADCRED = '66666666-6666-4666-8666-666666666666'
let world: TestWorld
t.before(async () => {
  world = await startWorld({
    grants: { [TENANT_A]: ALL_ROLES, [TENANT_B]: ALL_ROLES, [THROTTLED]: ALL_ROLES, [BADCRED]: ALL_ROLES },
    config: (base) => ({
      ...base,
      tokens: { timeoutMs: 30_000 },
      upstream: { ...base.upstream, regions: { eu: base.upstream.regions.eu }, region: 'eu' },
      tenants: [...base.tenants, { id: THROTTLED, permissions: ['Alert.Read.All'] }, { id: BADCRED, permissions: ['Alert.Read.All'] }]
    })
  })
})
t.teardown(async () => { await world.close() })

const alerts = async (tenant: string): ReturnType<typeof call> =>
  await call(world.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
const metrics = async (): Promise<string> => (await call(world.adminUrl, '/metrics')).text

t.test('tenant A\'s token requests hang at Entra while tenant B\'s requests keep completing', async (t) => {
  world.sim.entra.resetCounts()
  let release!: () => void
  world.sim.entra.setFault(TENANT_A, { kind: 'wait', until: new Promise<void>((resolve) => { release = resolve }) })
  let aDone = 0
  const aRequests = Array.from({ length: 5 }, async () => await alerts(TENANT_A).finally(() => { aDone++ }))
  for (let i = 0; i < 10; i++) {
    const b = await alerts(TENANT_B)
    t.equal(b.status, 200, `B request ${i + 1}`)
  }
  t.equal(aDone, 0, 'all of A\'s requests are still waiting for their token')
  t.equal(world.sim.entra.tokenRequests(TENANT_A), 1, 'A\'s waiting requests share one token request')
  release()
  const answers = await Promise.all(aRequests)
  t.same(answers.map((a) => a.status), [200, 200, 200, 200, 200], 'A is served once Entra answers')
  t.equal(world.sim.entra.tokenRequests(TENANT_A), 1)
  t.equal(world.sim.entra.tokenRequests(TENANT_B), 1, 'B asked once and then hit the cache')
  world.sim.entra.setFault(TENANT_A, undefined)
})

t.test('throttled: 503 with Entra\'s Retry-After, then fail fast without asking Entra again', async (t) => {
  world.sim.entra.resetCounts()
  world.sim.entra.setFault(THROTTLED, { kind: 'status', status: 429, retryAfter: 120 })
  const first = await alerts(THROTTLED)
  t.equal(first.status, 503)
  t.equal(first.headers['retry-after'], '120')
  t.equal(JSON.parse(first.text).error.code, 'TokenUnavailable')
  const again = await alerts(THROTTLED)
  t.equal(again.status, 503)
  t.ok(Number(again.headers['retry-after']) > 0 && Number(again.headers['retry-after']) <= 120, 'what is left of the wait')
  t.equal(world.sim.entra.tokenRequests(THROTTLED), 1, 'the second request never reached Entra')
  t.equal((await alerts(TENANT_B)).status, 200, 'other tenants are unaffected')
  t.match(await metrics(), /defender_gateway_token_backoff_refusals_total\{error_class="transient"\} 1/)
})

t.test('bad credential: 503, an error log line and the credential metric', async (t) => {
  world.sim.entra.resetCounts()
  world.sim.entra.setClientSecrets(['a-secret-the-gateway-does-not-have'])
  const res = await alerts(BADCRED)
  t.equal(res.status, 503)
  t.match(JSON.parse(res.text).error.message, /credential/)
  const line = world.logs.find((l) => l.errorClass === 'bad-credential' && l.tenant === BADCRED)
  t.equal(line?.level, 50, 'logged at error level')
  const text = await metrics()
  t.match(text, /defender_gateway_credential_rejections_total\{credential="identity.secret"\} 1/)
  t.match(text, /defender_gateway_token_acquisitions_total\{outcome="failure",error_class="bad-credential"\} 1/)
  t.equal((await alerts(BADCRED)).status, 503)
  t.equal(world.sim.entra.tokenRequests(BADCRED), 1, 'backing off: Entra is not asked on every request')
})
