import t from 'tap'
import { diffReload, removedNames, unchanged, type ReloadDiff } from '../../src/config/reload-diff.js'
import type { ClientConfig, ParsedConfig, TenantConfig } from '../../src/config/schema.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const HASH = 'a'.repeat(64)
const OTHER_HASH = 'b'.repeat(64)

type Lists = Pick<ParsedConfig, 'clients' | 'tenants' | 'extraRoutes'>
const client = (name: string, extra: Partial<ClientConfig> = {}): ClientConfig => ({ name, keySha256: HASH, tenants: ['*'], permissions: ['Alert.Read.All'], ...extra })
const tenant = (id: string, extra: Partial<TenantConfig> = {}): TenantConfig => ({ id, name: id === A ? 'contoso' : undefined, permissions: ['Alert.Read.All'], ...extra })
const lists = (clients: ClientConfig[], tenants: TenantConfig[], extraRoutes: Lists['extraRoutes'] = []): Lists => ({ clients, tenants, extraRoutes })
const none = { added: [], removed: [], changed: [] }
const route = { name: 'machines.newAction', method: 'POST' as const, template: '/api/machines/{id}/newAction', permissions: ['Machine.Scan'], rateClass: 'default' }

const base = lists([client('siem'), client('soar')], [tenant(A), tenant(B)])

const cases: Array<{ name: string, after: Lists, want: Partial<ReloadDiff> }> = [
  { name: 'the same lists', after: base, want: {} },
  { name: 'the same lists in another order, names in another case', after: lists([client('SOAR'), client('siem')], [tenant(B), tenant(A.toUpperCase(), { name: 'contoso' })]), want: {} },
  { name: 'permissions reordered', after: lists([client('siem', { permissions: ['alert.read.all'] }), client('soar')], base.tenants), want: {} },
  { name: 'a client added', after: lists([...base.clients, client('splunk')], base.tenants), want: { clients: { ...none, added: ['splunk'] } } },
  { name: 'a client removed', after: lists([client('siem')], base.tenants), want: { clients: { ...none, removed: ['soar'] } } },
  { name: 'a client\'s key rotated', after: lists([client('siem', { keySha256: OTHER_HASH }), client('soar')], base.tenants), want: { clients: { ...none, changed: ['siem'] } } },
  { name: 'a client\'s tenants narrowed', after: lists([client('siem', { tenants: ['contoso'] }), client('soar')], base.tenants), want: { clients: { ...none, changed: ['siem'] } } },
  { name: 'a client\'s permission added', after: lists([client('siem', { permissions: ['Alert.Read.All', 'Machine.Isolate'] }), client('soar')], base.tenants), want: { clients: { ...none, changed: ['siem'] } } },
  { name: 'a tenant removed (named by its name)', after: lists(base.clients, [tenant(B)]), want: { tenants: { ...none, removed: ['contoso'] } } },
  { name: 'a tenant without a name removed (named by its id)', after: lists(base.clients, [tenant(A)]), want: { tenants: { ...none, removed: [B] } } },
  { name: 'a tenant renamed', after: lists(base.clients, [tenant(A, { name: 'contoso-eu' }), tenant(B)]), want: { tenants: { ...none, changed: ['contoso-eu'] } } },
  { name: 'a tenant restricted to a region', after: lists(base.clients, [tenant(A, { regions: ['eu'] }), tenant(B)]), want: { tenants: { ...none, changed: ['contoso'] } } },
  { name: 'everything removed: a half-written file that still parses', after: lists([], []), want: { clients: { ...none, removed: ['siem', 'soar'] }, tenants: { ...none, removed: [B, 'contoso'].sort((a, b) => a.localeCompare(b)) } } },
  { name: 'an extra route added', after: lists(base.clients, base.tenants, [route]), want: { extraRoutes: { ...none, added: ['machines.newAction'] } } },
  {
    name: 'added, removed and changed at once',
    after: lists([client('siem', { keySha256: OTHER_HASH }), client('new')], [tenant(A), tenant('33333333-3333-4333-8333-333333333333', { name: 'woodgrove' })]),
    want: { clients: { added: ['new'], removed: ['soar'], changed: ['siem'] }, tenants: { added: ['woodgrove'], removed: [B], changed: [] } }
  }
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const diff = diffReload(base, c.after)
    t.same(diff, { clients: none, tenants: none, extraRoutes: none, ...c.want })
    t.equal(unchanged(diff), Object.keys(c.want).length === 0)
    t.notOk(JSON.stringify(diff).includes(HASH.slice(0, 16)) || JSON.stringify(diff).includes(OTHER_HASH.slice(0, 16)), 'no key hash in the diff')
  })
}

t.test('removedNames lists every removal, across lists', async (t) => {
  t.same(removedNames(diffReload(base, lists([client('siem')], [tenant(B)]))), ['soar', 'contoso'])
  t.same(removedNames(diffReload(base, base)), [])
})
