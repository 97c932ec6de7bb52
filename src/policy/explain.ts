import type { RouteSpec } from './catalogue-data.js'
import type { Grantee, TenantPolicy } from './authorise.js'

/** What a caller may do in a tenant, so a SIEM admin can debug a 403 without reading config. */
export interface Explanation {
  readonly client: string
  readonly tenant: string
  /** client.permissions ∩ tenant.permissions */
  readonly permissions: readonly string[]
  /** every catalogue route those permissions open, with the permission that opens it */
  readonly routes: ReadonlyArray<{ readonly name: string, readonly method: string, readonly template: string, readonly permission: string, readonly writes: boolean, readonly api: 'defender' | 'graph' }>
}

/** Pure: the same allowlist arithmetic `authorise` applies, listed for every route at once. */
export function explain (client: Grantee, tenant: TenantPolicy, routes: readonly RouteSpec[]): Explanation {
  const permissions = [...client.permissions].filter((p) => tenant.permissions.has(p)).sort()
  const open = new Set(permissions)
  const opened = routes.flatMap((route) => {
    const permission = route.permissions.find((p) => open.has(p))
    return permission === undefined ? [] : [{ name: route.name, method: route.method, template: route.template, permission, writes: route.writes, api: route.api ?? 'defender' as const }]
  })
  return { client: client.name, tenant: tenant.id, permissions, routes: opened }
}
