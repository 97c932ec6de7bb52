import t from 'tap'
import { promtool } from '../promtool.js'
import { call, startWorld, withKey, ADMIN_TOKEN, TENANT_A, TENANT_B } from '../helper.js'

// Issue 13 item 5: 40 requests Defender kept answering 401 caused 79 token requests, and every admin
// refresh one more. Now: one re-acquisition per tenant per cool-down window, shared by everyone in it.
// The window (1 h here) cannot run out during the test however slow the machine: nothing is timed.
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }

t.test('regression: N concurrent 401s, later requests and M admin refreshes in one window cost one token request', async (t) => {
  const world = await startWorld({
    config: (base) => ({ ...base, tokens: { reacquireCooldownMs: 3_600_000 }, upstream: { ...base.upstream, regions: { eu: base.upstream.regions.eu } } })
  })
  t.teardown(async () => { await world.close() })
  const { entra } = world.sim
  const eu = world.sim.regions.eu!
  const alerts = async (tenant = TENANT_A): ReturnType<typeof call> => await call(world.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal((await alerts()).status, 200, 'a cached token to start from')
  const before = entra.tokenRequests(TENANT_A)
  eu.setFault({ kind: 'status', status: 401 })

  const storm = await Promise.all(Array.from({ length: 40 }, async () => await alerts()))
  t.ok(storm.every((r) => r.status === 502 || r.status === 503), `never a caller 401: ${[...new Set(storm.map((r) => r.status))].join(',')}`)
  t.equal(entra.tokenRequests(TENANT_A) - before, 1, '40 concurrent 401s: one re-acquisition')

  const later = []
  for (let i = 0; i < 20; i++) later.push(await alerts())
  t.ok(later.every((r) => r.status === 503 && JSON.parse(r.text).error.code === 'TokenUnavailable'), 'later requests are told to come back')
  t.ok(later.every((r) => Number(r.headers['retry-after']) >= 1), 'with Retry-After')
  const refreshes = [
    ...await Promise.all(Array.from({ length: 5 }, async () => await call(world.adminUrl, `/admin/tenants/${TENANT_A}/refresh`, { method: 'POST', headers: admin })))
  ]
  for (let i = 0; i < 5; i++) refreshes.push(await call(world.adminUrl, `/admin/tenants/${TENANT_A}/refresh`, { method: 'POST', headers: admin }))
  t.ok(refreshes.every((r) => r.json().shared === true && r.json().nextInSeconds > 0), 'admin refreshes share the window and say when the next may ask')
  t.equal(entra.tokenRequests(TENANT_A) - before, 1, 'still one after 20 more requests and 10 admin refreshes')
  const sentDuringWindow = eu.received.length
  t.ok(sentDuringWindow <= 1 + 40 * 2, `Defender saw at most the storm and its replays (${sentDuringWindow})`)

  eu.setFault(undefined)
  t.equal((await alerts(TENANT_B)).status, 200, 'another tenant is not held back')
  t.equal(entra.tokenRequests(TENANT_B), 1)
  const text = (await call(world.adminUrl, '/metrics')).text
  t.match(text, /defender_gateway_token_reacquisitions_total\{outcome="started"\} 1\n/)
  t.match(text, /defender_gateway_token_reacquisitions_total\{outcome="shared"\} [1-9]/)
  const { code, output } = await promtool(text)
  t.equal(code, 0, `promtool check metrics: ${output.trim() || 'clean'}`)
})

t.test('the admin refresh outside a window asks Entra ID; inside it shares the token', async (t) => {
  const world = await startWorld({ config: (base) => ({ ...base, tokens: { reacquireCooldownMs: 3_600_000 } }) })
  t.teardown(async () => { await world.close() })
  const { entra } = world.sim
  const first = (await call(world.adminUrl, `/admin/tenants/${TENANT_A}/refresh`, { method: 'POST', headers: admin })).json()
  t.match(first, { refreshed: true, shared: false })
  const second = (await call(world.adminUrl, `/admin/tenants/${TENANT_A}/refresh`, { method: 'POST', headers: admin })).json()
  t.match(second, { refreshed: true, shared: true, expiresOn: first.expiresOn })
  t.equal(entra.tokenRequests(TENANT_A), 1)
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200, 'the shared token serves requests')
})
