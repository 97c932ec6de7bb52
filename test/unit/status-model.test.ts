import t from 'tap'
import { createLedger } from '../../src/limits/ledger.js'
import { createPlan } from '../../src/limits/plan.js'
import { RATE_CLASSES } from '../../src/policy/catalogue-data.js'
import { catalogue } from '../../src/policy/catalogue.js'
import { describe, tenantApiKeys, tenantApis } from '../../src/pages/permissions.js'
import { clientsForTenant, tenantRow, type StatusSources } from '../../src/pages/status/model.js'
import { createStatusSessions } from '../../src/pages/status/session.js'
import { clientRows, summarise } from '../../src/pages/status/tables.js'
import type { TokenStatus } from '../../src/tokens/types.js'

const A = '11111111-1111-4111-8111-111111111111'
const KEY = 'a'.repeat(64)

t.test('budget usage: calls in the last minute and hour per class, the default class always listed', async (t) => {
  const plan = createPlan({ classes: RATE_CLASSES })
  const ledger = createLedger(plan, 10)
  t.same(ledger.usage(A, 0, plan), [{ rateClass: 'default', lastMinute: 0, lastHour: 0, perMinute: 100, perHour: 1500 }])
  ledger.attempt(A, 'default', 'siem', 1_000)
  ledger.attempt(A, 'default', 'siem', 100_000)
  ledger.attempt(A, 'exportFiles', 'siem', 100_000)
  t.same(ledger.usage(A, 120_000, plan), [
    { rateClass: 'default', lastMinute: 1, lastHour: 2, perMinute: 100, perHour: 1500 },
    { rateClass: 'exportFiles', lastMinute: 1, lastHour: 1, perMinute: 5, perHour: 20 }
  ])
  t.match(ledger.usage(A, 3_650_000, plan)[0], { lastMinute: 0, lastHour: 1 })
})

function sources (status: TokenStatus, tenants = [{ id: A, name: 'contoso', permissions: ['Alert.Read.All', 'Machine.Isolate'] }], graph: TokenStatus = {}): StatusSources {
  return {
    current: () => ({
      tenants,
      clients: [
        { name: 'siem', keySha256: KEY, tenants: ['*'], permissions: ['Alert.Read.All'] },
        { name: 'other', keySha256: KEY, tenants: ['22222222-2222-4222-8222-222222222222'], permissions: ['Alert.Read.All'] }
      ]
    }),
    routes: () => catalogue([]),
    tokenStatus: (_id, api) => api === 'graph' ? graph : status,
    usage: () => [{ rateClass: 'default', lastMinute: 3, lastHour: 7, perMinute: 100, perHour: 1500 }],
    region: () => 'eu',
    consentUrl: (id) => `https://login.example/${id}/adminconsent`,
    onboardingUrl: () => undefined,
    now: () => 0
  }
}

t.test('tenant rows from cached state: token states, granted vs missing only with a token', async (t) => {
  const roles = new Set(['alert.read.all'])
  const tenant = { id: A, name: 'contoso', permissions: ['Alert.Read.All', 'Machine.Isolate'] }
  const ok = tenantRow(tenant, sources({ token: { expiresOn: 0, roles, stale: false } }))
  t.match(ok, { tokenState: 'ok', apis: [{ granted: ['Alert.Read.All'], missing: ['Machine.Isolate'] }], budget: { minute: 3, hour: 7, perMinute: 100 } })
  t.equal(tenantRow(tenant, sources({ token: { expiresOn: 0, roles, stale: true } })).tokenState, 'stale')
  t.equal(tenantRow(tenant, sources({ refusedUntil: 5, lastError: { kind: 'not-onboarded', message: 'm', at: 0 } })).tokenState, 'refused')
  t.equal(tenantRow(tenant, sources({ lastError: { kind: 'transient', message: 'm', at: 0 } })).tokenState, 'failing')
  const none = tenantRow(tenant, sources({}))
  t.match(none, { tokenState: 'none', apis: [{ granted: [], missing: [] }] }, 'unknown, not "all missing", without a token')
  t.same(summarise([ok, none]), { ok: 0, missing: 1, failing: 0, none: 1 })
})

t.test('clients per tenant: allowlists and what the token grants', async (t) => {
  const tenant = { id: A, name: 'contoso', permissions: ['Alert.Read.All', 'Machine.Isolate'] }
  const rows = clientsForTenant(tenant, sources({ token: { expiresOn: 0, roles: new Set(['alert.read.all']), stale: false } }))
  t.match(rows[0], { client: 'siem', allowed: true, permissions: ['Alert.Read.All'], granted: ['Alert.Read.All'] })
  t.ok((rows[0]?.routes ?? 0) > 5)
  t.match(rows[1], { client: 'other', allowed: false, permissions: [], routes: 0 })
  t.same(clientRows(sources({}).current().clients, new Map([['siem', 4]])).map((c) => [c.fingerprint, c.issued]), [[`sha256:${'a'.repeat(16)}…`, 4], [`sha256:${'a'.repeat(16)}…`, 0]])
})

t.test('permissions in words, per API', async (t) => {
  t.match(describe('machine.isolate'), { name: 'machine.isolate', changes: true, words: /isolate a device/ })
  t.match(describe('Alert.Read.All'), { changes: false })
  t.match(describe('Future.Permission'), { words: /configured by your provider/ })
  t.match(describe('SecurityIncident.ReadWrite.All'), { changes: true, words: /security incidents/ })
  t.match(describe('ThreatHunting.Read.All'), { changes: false, words: /advanced hunting/ })
  t.same(tenantApis([]), [])
  t.same(tenantApiKeys([]), ['defender'], 'no permission: the Defender token is still the one worth showing')
  const apis = tenantApis(['ThreatHunting.Read.All', 'Machine.Isolate', 'SecurityAlert.Read.All', 'Alert.Read.All'])
  t.same(apis.map((a) => [a.key, a.permissions.map((p) => p.name)]), [['defender', ['Alert.Read.All', 'Machine.Isolate']], ['graph', ['SecurityAlert.Read.All', 'ThreatHunting.Read.All']]])
  t.same(tenantApiKeys(['SecurityAlert.Read.All']), ['graph'], 'a Graph-only tenant: no Defender token is asked for')
})

t.test('a tenant of both APIs: each API from its own token, a Graph permission missing under Graph only', async (t) => {
  const tenant = { id: A, name: 'contoso', permissions: ['Alert.Read.All', 'SecurityAlert.Read.All', 'ThreatHunting.Read.All'] }
  const defender: TokenStatus = { token: { expiresOn: 0, roles: new Set(['alert.read.all']), stale: false } }
  // The Defender token's roles must not count for Graph even if it carried a Graph role's name.
  const wrongPlace: TokenStatus = { token: { expiresOn: 0, roles: new Set(['alert.read.all', 'threathunting.read.all']), stale: false } }
  const graph: TokenStatus = { token: { expiresOn: 3_600_000, roles: new Set(['securityalert.read.all']), stale: false } }
  const row = tenantRow(tenant, sources(wrongPlace, [tenant], graph))
  t.match(row.apis, [
    { key: 'defender', api: /Defender for Endpoint/, granted: ['Alert.Read.All'], missing: [], tokenState: 'ok' },
    { key: 'graph', api: /Microsoft Graph/, granted: ['SecurityAlert.Read.All'], missing: ['ThreatHunting.Read.All'], tokenState: 'ok', expiresOn: '1970-01-01T01:00:00.000Z' }
  ])
  t.same(summarise([row]), { ok: 0, missing: 1, failing: 0, none: 0 })
  const failing = tenantRow(tenant, sources(defender, [tenant], { lastError: { kind: 'wrong-token', message: 'm', at: 0 } }))
  t.match(failing, { tokenState: 'failing', apis: [{ key: 'defender', tokenState: 'ok' }, { key: 'graph', tokenState: 'failing', granted: [], missing: [], lastError: { kind: 'wrong-token' } }] }, 'Graph failing: not connected, the tenant counts as failing')
  t.equal(tenantRow(tenant, sources(defender, [tenant], {})).tokenState, 'none', 'no Graph token cached yet')
  const client = { name: 'hunter', keySha256: KEY, tenants: ['*'], permissions: ['Alert.Read.All', 'ThreatHunting.Read.All'] }
  const withClient = { ...sources(wrongPlace, [tenant], graph), current: () => ({ tenants: [tenant], clients: [client] }) }
  t.match(clientsForTenant(tenant, withClient)[0], { granted: ['Alert.Read.All'] }, 'a Graph permission is granted only by the Graph token')
})

t.test('sessions: the admin token only, expiring, signed out per session', async (t) => {
  let now = 1_000_000
  const sessions = createStatusSessions('admin-token-value', 10, () => now)
  t.ok(sessions.tokenMatches('admin-token-value'))
  for (const wrong of ['', 'admin-token-valu', 'admin-token-value ', 'x'.repeat(1000)]) t.notOk(sessions.tokenMatches(wrong))
  t.notOk(sessions.cookieSecret.includes('admin-token-value'))
  const a = sessions.open()
  const b = sessions.open()
  t.equal(a.maxAgeSeconds, 600)
  t.ok(sessions.valid(a.value))
  // (the cookie plugin's signature is checked before `valid`: an edited expiry never gets here)
  for (const bad of ['', 'x', `${a.value}x`, `x${a.value}`]) t.notOk(sessions.valid(bad), `'${bad}'`)
  sessions.close(a.value)
  t.notOk(sessions.valid(a.value), 'signed out')
  t.ok(sessions.valid(b.value), 'another session stays')
  now += 600_000
  t.notOk(sessions.valid(b.value), 'expired')
})
