import t from 'tap'
import { GatewayError } from '../../src/errors.js'
import { askOf, eligibleTenants, followLink, narrowingDigest, routeOfLink } from '../../src/fleet/ask.js'
import { itemsOf, itemsText } from '../../src/fleet/report.js'
import { buildPolicy } from '../../src/pipeline/policy-state.js'

const T1 = '11111111-1111-4111-8111-111111111111'
const T2 = '22222222-2222-4222-8222-222222222222'
const T3 = '33333333-3333-4333-8333-333333333333'
const policy = buildPolicy({
  extraRoutes: [],
  tenants: [
    { id: T2, name: 'fabrikam', permissions: ['Alert.Read.All'] },
    { id: T1, name: 'contoso', permissions: ['Alert.Read.All', 'Machine.Read.All'] },
    { id: T3, name: 'woodgrove', permissions: ['Machine.Read.All'] }
  ],
  clients: [
    { name: 'siem', keySha256: '0'.repeat(64), tenants: ['*'], permissions: ['Alert.Read.All'] },
    { name: 'two', keySha256: '1'.repeat(64), tenants: [T1, T3], permissions: ['Alert.Read.All', 'Machine.Read.All'] }
  ]
} as never)
const siem = { name: 'siem', tenants: new Set(['*']), permissions: new Set(['Alert.Read.All']) }
const two = { name: 'two', tenants: new Set([T1, T3]), permissions: new Set(['Alert.Read.All', 'Machine.Read.All']) }
const alerts = routeOfLink(policy, '/api/alerts') as Exclude<ReturnType<typeof routeOfLink>, GatewayError>
const machines = routeOfLink(policy, '/api/machines') as typeof alerts
const ids = (list: ReadonlyArray<{ id: string }>): string[] => list.map((x) => x.id)

t.test('the route of a fleet read comes from the one parser and matcher, GET only', async (t) => {
  t.equal(alerts.name !== undefined && alerts.method, 'GET')
  for (const [link, code] of [['/api/alerts/../machines', 'BadRequest'], ['/api/alerts%2fx', 'BadRequest'], ['/api/nothing', 'UnknownRoute'], ['/api/machines/x/isolate', 'UnknownRoute']]) {
    const result = routeOfLink(policy, link as string)
    t.ok(result instanceof GatewayError && result.code === code, `${link as string}: ${code as string}`)
  }
})

t.test('a fresh ask, a cursor ask, and a cursor with company are told apart', async (t) => {
  t.same(askOf('/api/alerts?$top=5'), { target: '/api/alerts?$top=5' })
  t.same(askOf('/api/alerts?gatewayCursor=abc_-1'), { path: '/api/alerts', cursor: 'abc_-1' })
  t.throws(() => askOf('/api/alerts?$top=5&gatewayCursor=abc'), { code: 'BadRequest' })
  t.throws(() => askOf(`/api/alerts?$filter=${'x'.repeat(2000)}`), { code: 'BadRequest' })
})

t.test('eligible tenants: client ∩ tenant allowlists for the route, sorted; the header only narrows', async (t) => {
  t.same(ids(eligibleTenants(policy, siem, alerts, undefined)), [T1, T2], 'woodgrove lacks Alert.Read.All')
  t.same(ids(eligibleTenants(policy, two, alerts, undefined)), [T1])
  t.same(ids(eligibleTenants(policy, two, machines, undefined)), [T1, T3])
  t.same(ids(eligibleTenants(policy, siem, alerts, 'FABRIKAM ')), [T2], 'by name, any case')
  t.throws(() => eligibleTenants(policy, two, alerts, `${T1},fabrikam`), { code: 'TenantNotAllowed' }, 'a tenant outside the client list')
  t.throws(() => eligibleTenants(policy, two, alerts, 'woodgrove'), { code: 'PermissionNotAllowed' }, 'a tenant without the permission')
  t.throws(() => eligibleTenants(policy, siem, alerts, 'nobody'), { code: 'TenantNotAllowed' })
  t.throws(() => eligibleTenants(policy, siem, alerts, ' , '), { code: 'BadRequest' })
  t.throws(() => eligibleTenants(policy, siem, machines, undefined), { code: 'TenantNotAllowed' }, 'no tenant at all')
  t.same(ids(eligibleTenants(policy, two, alerts, `${T1},fabrikam`, true)), [T1], 'a later page leaves out a tenant no longer allowed (the page reports it)')
  t.same(eligibleTenants(policy, siem, machines, undefined, true), [], 'and may be left with none')
})

t.test('the narrowing digest: the same tenants however spelled, ordered or cased; another set differs', async (t) => {
  const digest = (header: string | undefined): string | undefined => narrowingDigest(policy, header)
  t.equal(digest(undefined), undefined)
  t.match(digest('fabrikam'), /^[0-9a-f]{32}$/)
  t.equal(digest(`FABRIKAM, ${T1}`), digest(`${T1.toUpperCase()},${T2}`))
  t.not(digest(T1), digest(`${T1},${T2}`))
  t.throws(() => digest(' , '), { code: 'BadRequest' })
})

t.test('a hostile Defender nextLink is never followed outside what the client may read', async (t) => {
  const t1 = policy.tenants.get(T1)!
  const target = '/api/alerts?$top=5'
  t.same(followLink(policy, siem, t1, target, 'https://api.securitycenter.microsoft.com/api/alerts?$top=5&$skip=5'), { link: '/api/alerts?$top=5&$skip=5' })
  t.same(followLink(policy, siem, t1, target, 'https://elsewhere.example/api/alerts?$skip=5'), { link: '/api/alerts?$skip=5' }, 'any host: only path and query are used, to the tenant region')
  for (const hostile of [
    'https://x/api/machines', // a route the client may not read
    'https://x/api/alerts/../machines',
    'https://x/tenants/other/api/alerts',
    '/api/alerts?$skip=5', // not absolute
    'javascript:alert(1)',
    `https://x/api/alerts?${'x'.repeat(1100)}`,
    42,
    'https://x/api/alerts?x=1#frag'
  ]) t.ok('error' in followLink(policy, siem, t1, target, hostile), String(hostile).slice(0, 40))
})

t.test('items carry their tenant; an item cannot forge it', async (t) => {
  const text = itemsText([{ id: 'a', gatewayTenantId: 'forged' }, 'bare'], T1)
  t.same(JSON.parse(`[${text}]`), [{ id: 'a', gatewayTenantId: T1 }, { value: 'bare', gatewayTenantId: T1 }])
  t.same(itemsOf({ '@odata.context': 'x', value: [1] }), [1])
  t.same(itemsOf({ '@odata.context': 'x', score: 7 }), [{ score: 7 }], 'an entity answer is one item')
})
