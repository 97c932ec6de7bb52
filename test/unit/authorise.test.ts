import t from 'tap'
import { ROUTES } from '../../src/policy/catalogue-data.js'
import type { RouteSpec } from '../../src/policy/catalogue-data.js'
import { authorise, grantedByRoles } from '../../src/policy/authorise.js'
import type { Grantee, TenantPolicy } from '../../src/policy/authorise.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

function route (name: string): RouteSpec {
  const found = ROUTES.find((r) => r.name === name)
  if (found === undefined) throw new Error(`no route ${name} in the catalogue`)
  return found
}

const client = (tenants: string[], permissions: string[]): Grantee => ({ name: 'c1', tenants: new Set(tenants), permissions: new Set(permissions) })
const tenant = (id: string, permissions: string[]): TenantPolicy => ({ id, permissions: new Set(permissions) })

interface Row {
  readonly name: string
  readonly client: Grantee
  readonly tenant: TenantPolicy | undefined
  readonly route: string
  /** the permission that allowed it, or the denial code */
  readonly expect: string
}

const READ = ['Alert.Read.All', 'Machine.Read.All']
const RW = ['Alert.ReadWrite.All', 'Machine.ReadWrite.All']

const rows: readonly Row[] = [
  // tenant scope
  { name: "'*' covers any configured tenant", client: client(['*'], READ), tenant: tenant(A, READ), route: 'alerts.list', expect: 'Alert.Read.All' },
  { name: 'explicit tenant listed', client: client([A], READ), tenant: tenant(A, READ), route: 'alerts.list', expect: 'Alert.Read.All' },
  { name: 'explicit tenant not listed', client: client([B], READ), tenant: tenant(A, READ), route: 'alerts.list', expect: 'TenantNotAllowed' },
  { name: 'two explicit tenants, second listed', client: client([B, A], READ), tenant: tenant(A, READ), route: 'alerts.list', expect: 'Alert.Read.All' },
  { name: 'empty tenant list', client: client([], READ), tenant: tenant(A, READ), route: 'alerts.list', expect: 'TenantNotAllowed' },
  { name: 'unknown tenant with explicit list', client: client([A], READ), tenant: undefined, route: 'alerts.list', expect: 'TenantNotAllowed' },
  { name: "unknown tenant even with '*'", client: client(['*'], READ), tenant: undefined, route: 'alerts.list', expect: 'TenantNotAllowed' },
  { name: 'tenant check comes before permissions', client: client([B], []), tenant: tenant(A, []), route: 'alerts.list', expect: 'TenantNotAllowed' },
  // intersection of client and tenant allowlists
  { name: 'permission in client only', client: client(['*'], ['Alert.Read.All']), tenant: tenant(A, ['Machine.Read.All']), route: 'alerts.list', expect: 'PermissionNotAllowed' },
  { name: 'permission in tenant only', client: client(['*'], ['Machine.Read.All']), tenant: tenant(A, ['Alert.Read.All']), route: 'alerts.list', expect: 'PermissionNotAllowed' },
  { name: 'permission in both', client: client(['*'], ['Alert.Read.All']), tenant: tenant(A, ['Alert.Read.All']), route: 'alerts.list', expect: 'Alert.Read.All' },
  { name: 'nothing granted anywhere', client: client(['*'], []), tenant: tenant(A, []), route: 'alerts.list', expect: 'PermissionNotAllowed' },
  { name: 'client read, tenant readwrite: no common permission', client: client(['*'], ['Alert.Read.All']), tenant: tenant(A, ['Alert.ReadWrite.All']), route: 'alerts.list', expect: 'PermissionNotAllowed' },
  { name: 'different alternatives on each side do not combine', client: client(['*'], ['Ti.ReadWrite']), tenant: tenant(A, ['Ti.ReadWrite.All']), route: 'indicators.list', expect: 'PermissionNotAllowed' },
  { name: 'permission names are exact (config canonicalises)', client: client(['*'], ['alert.read.all']), tenant: tenant(A, ['alert.read.all']), route: 'alerts.list', expect: 'PermissionNotAllowed' },
  // ReadWrite alternatives
  { name: 'ReadWrite in both satisfies a read route', client: client(['*'], ['Alert.ReadWrite.All']), tenant: tenant(A, ['Alert.ReadWrite.All']), route: 'alerts.list', expect: 'Alert.ReadWrite.All' },
  { name: 'ReadWrite satisfies machines.get', client: client(['*'], RW), tenant: tenant(A, RW), route: 'machines.get', expect: 'Machine.ReadWrite.All' },
  { name: 'read preferred when both granted', client: client(['*'], [...READ, ...RW]), tenant: tenant(A, [...READ, ...RW]), route: 'alerts.get', expect: 'Alert.Read.All' },
  { name: 'Ti.ReadWrite.All alone satisfies indicators.list', client: client(['*'], ['Ti.ReadWrite.All']), tenant: tenant(A, ['Ti.ReadWrite.All']), route: 'indicators.list', expect: 'Ti.ReadWrite.All' },
  { name: 'any one of the cancel permissions', client: client(['*'], ['Machine.Scan']), tenant: tenant(A, ['Machine.Scan', 'Machine.Isolate']), route: 'machineActions.cancel', expect: 'Machine.Scan' },
  // read never satisfies a write
  { name: 'Alert.Read.All does not update alerts', client: client(['*'], READ), tenant: tenant(A, READ), route: 'alerts.update', expect: 'PermissionNotAllowed' },
  { name: 'Alert.Read.All does not batch update', client: client(['*'], READ), tenant: tenant(A, READ), route: 'alerts.batchUpdate', expect: 'PermissionNotAllowed' },
  { name: 'Machine.Read.All does not tag', client: client(['*'], READ), tenant: tenant(A, READ), route: 'machines.tags', expect: 'PermissionNotAllowed' },
  { name: 'Machine.Read.All does not update scan definitions', client: client(['*'], READ), tenant: tenant(A, READ), route: 'scanDefinitions.update', expect: 'PermissionNotAllowed' },
  { name: 'Machine.ReadWrite.All does not isolate', client: client(['*'], RW), tenant: tenant(A, RW), route: 'machines.isolate', expect: 'PermissionNotAllowed' },
  { name: 'Machine.Read/ReadWrite do not stop and quarantine', client: client(['*'], [...READ, ...RW]), tenant: tenant(A, [...READ, ...RW]), route: 'machines.stopAndQuarantineFile', expect: 'PermissionNotAllowed' },
  { name: 'Ti.Read.All does not submit indicators', client: client(['*'], ['Ti.Read.All']), tenant: tenant(A, ['Ti.Read.All']), route: 'indicators.submit', expect: 'PermissionNotAllowed' },
  { name: 'Machine.Isolate isolates', client: client(['*'], ['Machine.Isolate']), tenant: tenant(A, ['Machine.Isolate']), route: 'machines.isolate', expect: 'Machine.Isolate' },
  { name: 'Alert.ReadWrite.All updates alerts', client: client(['*'], RW), tenant: tenant(A, RW), route: 'alerts.update', expect: 'Alert.ReadWrite.All' },
  // read-only POST
  { name: 'AdvancedQuery.Read.All runs queries', client: client(['*'], ['AdvancedQuery.Read.All']), tenant: tenant(A, ['AdvancedQuery.Read.All']), route: 'advancedQueries.run', expect: 'AdvancedQuery.Read.All' }
]

t.test('authorise: client x tenant x route -> decision', async (t) => {
  for (const row of rows) {
    const decision = authorise(row.client, row.tenant, 'contoso', route(row.route))
    const got = decision.allowed ? decision.permission : decision.code
    t.equal(got, row.expect, row.name)
    if (!decision.allowed) t.match(decision.message, /\S/, `${row.name}: explains the denial`)
  }
})

t.test('denial messages name what the reader needs', async (t) => {
  const denied = authorise(client([B], READ), tenant(A, READ), 'contoso', route('alerts.list'))
  t.match(denied, { allowed: false, code: 'TenantNotAllowed', message: /contoso/ })
  const unknown = authorise(client(['*'], READ), undefined, 'fabrikam', route('alerts.list'))
  t.match(unknown, { allowed: false, code: 'TenantNotAllowed', message: /fabrikam/ })
  const perm = authorise(client(['*'], READ), tenant(A, READ), A, route('alerts.update'))
  t.match(perm, { allowed: false, code: 'PermissionNotAllowed', message: /Alert\.ReadWrite\.All/ })
})

t.test('no read-only allowlist ever unlocks a writing route', async (t) => {
  const reads = ['Alert.Read.All', 'Machine.Read.All', 'Ti.Read.All', 'File.Read.All', 'Url.Read.All', 'Ip.Read.All', 'User.Read.All',
    'Software.Read.All', 'Vulnerability.Read.All', 'SecurityRecommendation.Read.All', 'Score.Read.All', 'RemediationTasks.Read.All',
    'SecurityBaselinesAssessment.Read.All', 'AdvancedQuery.Read.All']
  for (const r of ROUTES.filter((x) => x.writes)) {
    const decision = authorise(client(['*'], reads), tenant(A, reads), A, r)
    t.equal(decision.allowed, false, `${r.name} needs more than read permissions`)
  }
})

interface RoleRow { readonly name: string, readonly roles: readonly string[], readonly route: string, readonly expect: boolean }

const roleRows: readonly RoleRow[] = [
  { name: 'exact role (lowercased)', roles: ['alert.read.all'], route: 'alerts.list', expect: true },
  { name: 'readwrite alternative', roles: ['alert.readwrite.all'], route: 'alerts.list', expect: true },
  { name: 'docs spelling URL.Read.All', roles: ['URL.Read.All'.toLowerCase()], route: 'domains.stats', expect: true },
  { name: 'role for another route', roles: ['machine.read.all'], route: 'alerts.list', expect: false },
  { name: 'read role for a write route', roles: ['alert.read.all'], route: 'alerts.update', expect: false },
  { name: 'no roles', roles: [], route: 'alerts.list', expect: false },
  { name: 'one of several', roles: ['user.read.all', 'machine.liveresponse'], route: 'machineActions.cancel', expect: true },
  { name: 'prefix is not a role', roles: ['alert.read'], route: 'alerts.list', expect: false },
  { name: 'isolate', roles: ['machine.isolate'], route: 'machines.unisolate', expect: true },
  { name: 'user roles do not count', roles: ['readonly', 'secop'], route: 'alerts.list', expect: false }
]

t.test('grantedByRoles: lowercased roles x route -> granted', async (t) => {
  for (const row of roleRows) {
    t.equal(grantedByRoles(new Set(row.roles), route(row.route)), row.expect, row.name)
  }
})

t.test('grantedByRoles: every route is granted by each of its own permissions, lowercased', async (t) => {
  for (const r of ROUTES) {
    for (const p of r.permissions) t.ok(grantedByRoles(new Set([p.toLowerCase()]), r), `${r.name} by ${p}`)
  }
})
