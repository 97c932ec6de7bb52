import type { RouteSpec } from './catalogue-data.js'

/** The caller as policy sees it (names only: no keys, no I/O). */
export interface Grantee {
  readonly name: string
  readonly tenants: ReadonlySet<string>
  readonly permissions: ReadonlySet<string>
}

/** A configured tenant as policy sees it. */
export interface TenantPolicy {
  readonly id: string
  readonly permissions: ReadonlySet<string>
}

export type Decision =
  | { readonly allowed: true, readonly permission: string }
  | { readonly allowed: false, readonly code: 'TenantNotAllowed' | 'PermissionNotAllowed', readonly message: string }

/**
 * Deny by default: allowed only when the tenant is in the client's list and one of the permissions
 * the route accepts is in client.permissions ∩ tenant.permissions. `tenantRef` is the tenant as the
 * caller wrote it: refusals quote it, say which allowlist lacks the permission and where to look.
 * An unknown tenant and one outside the client's list read the same, so no client learns which
 * other customers are configured.
 */
export function authorise (client: Grantee, tenant: TenantPolicy | undefined, tenantRef: string, route: RouteSpec): Decision {
  if (tenant === undefined || !(client.tenants.has('*') || client.tenants.has(tenant.id))) {
    return {
      allowed: false,
      code: 'TenantNotAllowed',
      message: `Client '${client.name}' may not use tenant '${tenantRef}': it is not a configured tenant in the client's tenants list. ` +
        'Ask the gateway operator to add it (clients[].tenants).'
    }
  }
  for (const permission of route.permissions) {
    if (client.permissions.has(permission) && tenant.permissions.has(permission)) return { allowed: true, permission }
  }
  return { allowed: false, code: 'PermissionNotAllowed', message: permissionRefusal(client, tenant, tenantRef, route) }
}

/** Names the allowlist(s) lacking every permission the route accepts, and the explain endpoint. */
function permissionRefusal (client: Grantee, tenant: TenantPolicy, tenantRef: string, route: RouteSpec): string {
  const inClient = route.permissions.some((p) => client.permissions.has(p))
  const inTenant = route.permissions.some((p) => tenant.permissions.has(p))
  const lacking = [
    ...(inClient ? [] : [`client '${client.name}' (clients[].permissions)`]),
    ...(inTenant ? [] : [`tenant '${tenantRef}' (tenants[].permissions)`])
  ]
  // Each list has one of them, but not the same one: neither alone is to blame.
  const why = lacking.length > 0
    ? `not in the allowlist of ${lacking.join(' nor of ')}`
    : `client '${client.name}' and tenant '${tenantRef}' each allow a different one, and both must allow the same`
  const needs = route.permissions.length === 1 ? route.permissions[0] as string : `one of ${route.permissions.join(', ')}`
  return `${route.method} ${route.template} needs ${needs}: ${why}. ` +
    `GET /tenants/${tenantRef}/explain lists what this client may do in this tenant.`
}

/** The permissions a token's `roles` claim grants for a route (case-insensitive, per reference §2.4). */
export function grantedByRoles (roles: ReadonlySet<string>, route: RouteSpec): boolean {
  return route.permissions.some((p) => roles.has(p.toLowerCase()))
}
