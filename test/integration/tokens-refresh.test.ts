import t from 'tap'
import { call, startWorld, TENANT_A, TENANT_B, withKey, type TestWorld } from '../helper.js'

// Refresh-ahead and stale-if-error with short-lived tokens (8 s, used until 1 s before expiry, so renewed
// after about 3.5 s). The loops wait for events counted at the simulated Entra, bounded in rounds.
let world: TestWorld
t.before(async () => {
  world = await startWorld({
    config: (base) => ({
      ...base,
      tokens: { skewSeconds: 1, backoff: { initialMs: 100, maxMs: 200 } },
      upstream: { ...base.upstream, regions: { eu: base.upstream.regions.eu }, region: 'eu' }
    })
  })
  world.sim.entra.setTokenLifetime(8)
})
t.teardown(async () => { await world.close() })

const alerts = async (tenant: string): ReturnType<typeof call> =>
  await call(world.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Sends requests for the tenant until `done()` (at most `rounds`); returns every status seen. */
async function useUntil (tenant: string, done: () => boolean, rounds = 100): Promise<number[]> {
  const statuses: number[] = []
  for (let i = 0; i < rounds && !done(); i++) {
    statuses.push((await alerts(tenant)).status)
    // slow enough to stay inside the gateway's own per-tenant rate budget (100/min)
    await pause(150)
  }
  return statuses
}

t.test('a tenant in use is renewed before expiry; a failing renewal is ridden out on the old token; idle tenants are left', async (t) => {
  const entra = world.sim.entra
  t.equal((await alerts(TENANT_A)).status, 200)
  t.equal((await alerts(TENANT_B)).status, 200)
  const renewed = await useUntil(TENANT_A, () => entra.issued(TENANT_A) === 2)
  t.equal(entra.issued(TENANT_A), 2, 'renewed in the background')
  t.ok(renewed.every((s) => s === 200), 'every request was served meanwhile')

  // Two failed renewals (5xx: msal would lock the tenant out for 60 s), then Entra recovers.
  entra.setFault(TENANT_A, { kind: 'status', status: 503, times: 2 })
  const stale = await useUntil(TENANT_A, () => entra.issued(TENANT_A) === 3)
  t.equal(entra.issued(TENANT_A), 3, 'renewed after the failures, before the old token ran out')
  t.equal(entra.tokenRequests(TENANT_A), 5, '2 good + 2 failed + 1 good: retries reached Entra despite msal\'s lock-out')
  t.ok(stale.every((s) => s === 200), `no request failed while the renewal did: ${stale.join(',')} req=${entra.tokenRequests(TENANT_A)} issued=${entra.issued(TENANT_A)}`)

  t.equal(entra.tokenRequests(TENANT_B), 1, 'idle tenant B was not renewed')
  const text = (await call(world.adminUrl, '/metrics')).text
  t.match(text, /defender_gateway_token_refreshes_total\{outcome="success"\} 2/)
  t.match(text, /defender_gateway_token_refreshes_total\{outcome="failure"\} 2/)
  t.match(text, /defender_gateway_token_refreshes_total\{outcome="skipped_idle"\} [1-9]/)
  t.match(text, /defender_gateway_token_stale_served_total [1-9]/)
})
