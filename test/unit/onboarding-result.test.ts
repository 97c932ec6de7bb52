import t from 'tap'
import { consentResultPage } from '../../src/pages/onboarding/result.js'
import { buildPolicy } from '../../src/pipeline/policy-state.js'
import { createTokenProvider } from '../../src/tokens/token-provider.js'
import { fakeClock, fakeSource, jwt, RESOURCE } from './token-fakes.js'

const TENANT = '11111111-1111-4111-8111-111111111111'
const GRAPH = 'https://graph.microsoft.com'

/** Real providers (they check tenant and audience) over scripted sources: one per API, as the gateway wires them. */
function world (permissions: string[]): { deps: Parameters<typeof consentResultPage>[1], defender: ReturnType<typeof fakeSource>, graph: ReturnType<typeof fakeSource> } {
  const clock = fakeClock()
  const defender = fakeSource(clock)
  const graph = fakeSource(clock)
  const provider = (source: typeof defender, resource: string): ReturnType<typeof createTokenProvider> =>
    createTokenProvider({ source, resource, skewMs: 300_000, maxTenants: 10, negativeTtlMs: 30_000, refresh: false, now: () => clock.now, schedule: clock.schedule, random: () => 0.5 })
  const policy = { current: buildPolicy({ clients: [], extraRoutes: [], tenants: [{ id: TENANT, name: 'contoso', permissions }] }) }
  return { deps: { policy, tokens: { defender: provider(defender, RESOURCE), graph: provider(graph, GRAPH) }, requestId: 'r' }, defender, graph }
}

const grantedBy = (roles: string[], aud: string) => async (tenant: string) => ({ accessToken: jwt({ tid: tenant, aud, roles }), expiresOn: Date.now() + 3600_000 })

t.test('after a consent: a token of each API the tenant uses, granted and missing per API', async (t) => {
  const w = world(['Alert.Read.All', 'SecurityAlert.Read.All', 'ThreatHunting.Read.All'])
  w.defender.next.push(grantedBy(['Alert.Read.All'], RESOURCE))
  w.graph.next.push(grantedBy(['SecurityAlert.Read.All'], GRAPH))
  const page = await consentResultPage({ kind: 'consented', tenantId: TENANT }, w.deps)
  t.equal(page.status, 200)
  t.match(page.view, { ok: false, heading: 'Connected, with permissions missing' })
  t.same(page.view.apis, [
    { api: 'Microsoft Defender for Endpoint API (WindowsDefenderATP)', granted: ['Alert.Read.All'], missing: [], connected: true, problem: undefined },
    { api: 'Microsoft Graph security API', granted: ['SecurityAlert.Read.All'], missing: ['ThreatHunting.Read.All'], connected: true, problem: undefined }
  ])
  t.same([w.defender.calls, w.graph.calls], [[TENANT], [TENANT]], 'one acquisition per API')
})

t.test('a Graph acquisition answered with a Defender-audience token: Graph is not connected', async (t) => {
  const w = world(['Alert.Read.All', 'SecurityAlert.Read.All'])
  w.defender.next.push(grantedBy(['Alert.Read.All'], RESOURCE))
  w.graph.next.push(grantedBy(['SecurityAlert.Read.All', 'Alert.Read.All'], RESOURCE))
  const page = await consentResultPage({ kind: 'consented', tenantId: TENANT }, w.deps)
  t.match(page, { status: 200, view: { ok: false, heading: 'Connected to some APIs only' } })
  t.match(page.view.apis?.[1], { api: /Graph/, connected: false, problem: 'wrong-token', granted: [], missing: ['SecurityAlert.Read.All'] })
  t.match(page.view.apis?.[0], { connected: true, granted: ['Alert.Read.All'] })
})

t.test('only the APIs the tenant uses are asked; no API connected is a 502', async (t) => {
  const w = world(['Alert.Read.All'])
  w.defender.next.push(grantedBy(['Alert.Read.All'], GRAPH))
  const page = await consentResultPage({ kind: 'consented', tenantId: TENANT }, w.deps)
  t.match(page, { status: 502, view: { ok: false, heading: 'Consent recorded, but no access yet', message: /\(wrong-token\)/ } })
  t.equal(page.view.apis?.length, 1)
  t.same(w.graph.calls, [], 'no Graph permission configured: no Graph token asked for')
})
