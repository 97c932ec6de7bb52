import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { deriveKey, seal } from '../../src/redis/seal.js'
import { postForm } from '../sim/client.js'
import { promtool } from '../promtool.js'
import { call, startWorld, withKey, ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET, TENANT_A, TENANT_B, TENANT_C, type TestWorld } from '../helper.js'
import type { EntraFault, SimWorld } from '../sim/index.js'
import type { TokenSource } from '../../src/tokens/types.js'
import { startRedis } from '../redis-server.js'
import { connect } from '../redis-clients.js'

// Issue 13 item 2: every token is checked (tid = tenant, aud = configured resource) where it enters: first
// acquisition, refresh-ahead, the 401 replay, the shared Redis store. A mismatch reaches no one.
const RESOURCE = 'https://api.securitycenter.microsoft.com'
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
const errorOf = (text: string): { code: string, message: string } => JSON.parse(text).error

/** Every request the Defender regions received, and those that carried a token of `tenant`. */
function received (world: TestWorld, tenant?: string): number {
  return Object.values(world.sim.regions).reduce((n, r) => n + r.received.filter((x) => tenant === undefined || x.tenant === tenant).length, 0)
}

async function metric (world: TestWorld, pattern: RegExp): Promise<number> {
  const line = (await call(world.adminUrl, '/metrics')).text.split('\n').find((l) => pattern.test(l))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

/** Waits for an event the test cannot trigger itself (a timer in the gateway), checking as often as the loop allows. */
async function waitFor (what: string, done: () => boolean, rounds = 6000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (done()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`gave up waiting for ${what}`)
}

const mismatchLogs = (world: TestWorld): Array<Record<string, unknown>> => world.logs.filter((l) => l.level === 50 && String(l.msg).startsWith('token failed its check'))
const noBackoff = (base: Record<string, any>): Record<string, any> => ({ ...base, tokens: { backoff: { initialMs: 0, maxMs: 0 } } })

t.test('regression: a token of another tenant or another resource is refused on first acquisition, in every spelling', async (t) => {
  // No backoff and no cool-down, so every request below asks Entra ID and meets the check.
  const world = await startWorld({ config: (base) => ({ ...base, tokens: { backoff: { initialMs: 0, maxMs: 0 }, reacquireCooldownMs: 0 } }) })
  t.teardown(async () => { await world.close() })
  const refused: Array<[string, EntraFault, 'tenant' | 'audience']> = [
    ['another tenant', { kind: 'token', tenant: TENANT_B }, 'tenant'],
    ['no tenant', { kind: 'token', tenant: '' }, 'tenant'],
    ['Threat Protection app', { kind: 'token', audience: 'https://api.security.microsoft.com' }, 'audience'],
    ['the other identifier URI', { kind: 'token', audience: 'https://userrequestsgraphapi-prd.trafficmanager.net' }, 'audience'],
    ['Microsoft Graph', { kind: 'token', audience: 'https://graph.microsoft.com' }, 'audience'],
    ['look-alike', { kind: 'token', audience: `${RESOURCE}.evil.example` }, 'audience'],
    ['case-folded', { kind: 'token', audience: RESOURCE.toUpperCase() }, 'audience'],
    ['no audience', { kind: 'token', audience: '' }, 'audience'],
    ['another tenant and resource', { kind: 'token', tenant: TENANT_B, audience: 'https://graph.microsoft.com' }, 'tenant']
  ]
  for (const [what, fault, reason] of refused) {
    world.sim.entra.setFault(TENANT_C, fault)
    const before = { defender: received(world), logs: mismatchLogs(world).length, entra: world.sim.entra.tokenRequests(TENANT_C) }
    const res = await call(world.url, `/tenants/${TENANT_C}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
    t.equal(res.status, 503, what)
    t.equal(errorOf(res.text).code, 'TokenUnavailable', what)
    t.notOk(res.text.includes(TENANT_B), 'the caller is not told whose token it was')
    // explain?consent=check and the admin view report roles only from a checked token.
    const explained = (await call(world.url, `/tenants/${TENANT_C}/explain?consent=check`, { headers: withKey(world.keys.ops) })).json()
    t.equal(explained.consent.granted, undefined, `${what}: explain reports no grants`)
    t.match(explained.consent.error, /another (tenant|resource)/)
    const view = (await call(world.adminUrl, `/admin/tenants/${TENANT_C}`, { headers: admin })).json()
    t.match(view.token, { ok: false, errorClass: 'wrong-token' }, `${what}: admin view`)
    t.equal(view.roles, undefined)
    t.equal(view.granted, undefined)
    const forced = await call(world.adminUrl, `/admin/tenants/${TENANT_C}/refresh`, { method: 'POST', headers: admin })
    t.equal(forced.status, 503, `${what}: forced refresh`)
    t.equal(forced.json().roles, undefined)
    t.equal(received(world), before.defender, `${what}: nothing reached Defender`)
    t.equal(world.sim.entra.tokenRequests(TENANT_C) - before.entra, 4, 'each of the four asked Entra ID and was refused (no backoff here)')
    const logged = mismatchLogs(world).slice(before.logs)
    t.equal(logged.length, 4)
    t.match(logged[0], { tenant: TENANT_C, reason, origin: 'entra' }, `${what}: logged with both tenant ids`)
    if (reason === 'tenant') t.equal(logged[0]!.tokenTenant, fault.kind === 'token' ? fault.tenant : undefined)
  }
  t.equal(await metric(world, /^defender_gateway_token_check_failures_total\{reason="tenant",origin="entra"\}/), 3 * 4)
  t.equal(await metric(world, /^defender_gateway_token_check_failures_total\{reason="audience",origin="entra"\}/), 6 * 4)
  const lint = await promtool((await call(world.adminUrl, '/metrics')).text)
  t.equal(lint.code, 0, `promtool check metrics: ${lint.output.trim() || 'clean'}`)

  const accepted: Array<[string, EntraFault]> = [
    ['aud with the v1 trailing slash', { kind: 'token', audience: `${RESOURCE}/` }],
    ['tid in upper case', { kind: 'token', tenant: TENANT_C.toUpperCase() }]
  ]
  for (const [what, fault] of accepted) {
    world.sim.entra.setFault(TENANT_C, fault)
    const forced = await call(world.adminUrl, `/admin/tenants/${TENANT_C}/refresh`, { method: 'POST', headers: admin })
    t.equal(forced.status, 200, what)
    t.ok(forced.json().roles.includes('alert.read.all'), `${what}: roles from the checked token`)
    const ok = await call(world.url, `/tenants/${TENANT_C}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
    t.equal(ok.status, 200, what)
  }
  t.equal(received(world, TENANT_B), 0, 'tenant B\'s data was never asked for')
})

t.test('regression: the 401 replay re-acquires a checked token; a caller never gets another tenant\'s alerts', async (t) => {
  const world = await startWorld({ config: (base) => ({ ...base, upstream: { ...base.upstream, regions: { eu: base.upstream.regions.eu } } }) })
  t.teardown(async () => { await world.close() })
  const eu = world.sim.regions.eu!
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200)
  eu.reset()
  eu.setFault({ kind: 'status', status: 401, times: 1 })
  world.sim.entra.setFault(TENANT_A, { kind: 'token', tenant: TENANT_B, times: 1 })
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(res.status, 503)
  t.equal(errorOf(res.text).code, 'TokenUnavailable')
  t.equal(eu.received.length, 1, 'only the rejected request went out: no replay')
  t.equal(received(world, TENANT_B), 0, 'no request carried tenant B\'s token')
  t.match(mismatchLogs(world), [{ tenant: TENANT_A, tokenTenant: TENANT_B, reason: 'tenant', origin: 'entra' }])
})

t.test('regression: a refresh-ahead that brings another tenant\'s token is refused and the tenant\'s token purged', async (t) => {
  // 11 s tokens used until 1 s before expiry: renewed in the background after 3.75-5 s, 5 s before the old
  // one stops being used. The test waits for the renewal's log line, not for a duration.
  const world = await startWorld({
    config: (base) => ({ ...base, tokens: { skewSeconds: 1, backoff: { initialMs: 0, maxMs: 0 } }, upstream: { ...base.upstream, regions: { eu: base.upstream.regions.eu } } })
  })
  t.teardown(async () => { await world.close() })
  world.sim.entra.setTokenLifetime(11)
  const alerts = async (): ReturnType<typeof call> => await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal((await alerts()).status, 200, 'acquired')
  t.equal((await alerts()).status, 200, 'in use, so it will be renewed ahead')
  world.sim.entra.setFault(TENANT_A, { kind: 'token', tenant: TENANT_B })
  await waitFor('the background renewal', () => mismatchLogs(world).length > 0)
  t.match(mismatchLogs(world)[0], { tenant: TENANT_A, tokenTenant: TENANT_B, background: true })
  const sent = received(world)
  const after = await alerts()
  t.equal(after.status, 503, 'the tenant\'s token was purged with the bad one')
  t.equal(errorOf(after.text).code, 'TokenUnavailable')
  t.equal(received(world), sent, 'nothing reached Defender after the bad renewal')
  t.equal(received(world, TENANT_B), 0)
})

t.test('regression: a poisoned token in the shared Redis store is refused, deleted and never forwarded', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  const dir = await mkdtemp(join(tmpdir(), 'token-checks-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  const keyMaterial = `redis-token-key-${'k'.repeat(32)}`
  await writeFile(join(dir, 'token-key'), keyMaterial)
  const world = await startWorld({
    config: (base) => ({ ...noBackoff(base), redis: { url: server.url, tokenKey: { fromFile: join(dir, 'token-key') } } })
  })
  t.teardown(async () => { await world.close() })
  const raw = await connect(server.url)
  t.teardown(async () => { await raw.redis.close() })
  const redisKey = `dgw:token:{${TENANT_A}}`
  const poisons: Array<[string, EntraFault | undefined, string, 'tenant' | 'audience']> = [
    ['tenant B\'s token under tenant A\'s key', undefined, TENANT_B, 'tenant'],
    ['tenant A\'s token for another resource', { kind: 'token', audience: 'https://graph.microsoft.com' }, TENANT_A, 'audience']
  ]
  for (const [what, fault, issuedFor, reason] of poisons) {
    world.sim.entra.setFault(issuedFor, fault)
    const token = await issue(world.sim, issuedFor)
    world.sim.entra.setFault(issuedFor, undefined)
    await raw.redis.client.set(redisKey, seal(deriveKey(keyMaterial), JSON.stringify(token), TENANT_A))
    const entraBefore = world.sim.entra.tokenRequests(TENANT_A)
    const sent = received(world)
    const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
    t.equal(res.status, 503, what)
    t.equal(errorOf(res.text).code, 'TokenUnavailable')
    t.equal(received(world), sent, `${what}: nothing reached Defender`)
    t.equal(await raw.redis.client.exists(redisKey), 0, `${what}: deleted from Redis`)
    t.equal(world.sim.entra.tokenRequests(TENANT_A), entraBefore, 'refused before Entra ID was asked')
    t.match(mismatchLogs(world).at(-1), { tenant: TENANT_A, reason, origin: 'shared' })
  }
  t.equal(await metric(world, /^defender_gateway_token_check_failures_total\{reason="tenant",origin="shared"\}/), 1)
  t.equal(await metric(world, /^defender_gateway_token_check_failures_total\{reason="audience",origin="shared"\}/), 1)
  const healed = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(healed.status, 200, 'the next request gets a checked token from Entra ID')
  t.equal(await raw.redis.client.exists(redisKey), 1, 'and publishes it')
  t.equal(received(world, TENANT_B), 0)
})

/** A real token from the simulated Entra ID for `tenant` (whatever fault is set for it). */
async function issue (sim: SimWorld, tenant: string): Promise<{ accessToken: string, expiresOn: number }> {
  const res = await postForm(`${sim.entra.url}/${tenant}/oauth2/v2.0/token`, sim.ca.certPem, {
    client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope: `${RESOURCE}/.default`
  })
  const body = res.json() as { access_token: string, expires_in: number }
  return { accessToken: body.access_token, expiresOn: Date.now() + body.expires_in * 1000 }
}

/** An identity provider that answers every tenant with a real token issued for tenant B. */
function crossedTenantSource (sim: SimWorld): TokenSource {
  return { acquire: async () => await issue(sim, TENANT_B), forget () {}, close () {} }
}

t.test('a token source that answers with another tenant\'s token is refused too (any TokenSource, not only msal)', async (t) => {
  const world = await startWorld({ tokenSource: crossedTenantSource })
  t.teardown(async () => { await world.close() })
  const before = received(world)
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(res.status, 503)
  t.equal(errorOf(res.text).code, 'TokenUnavailable')
  t.match(errorOf(res.text).message, 'belongs to another tenant')
  t.equal(received(world), before, 'nothing reached Defender')
  t.match(mismatchLogs(world), [{ tenant: TENANT_A, tokenTenant: TENANT_B }], 'an error was logged with both tenant ids')
  const own = await call(world.url, `/tenants/${TENANT_B}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(own.status, 200, 'the same token is fine for the tenant it belongs to')
})
