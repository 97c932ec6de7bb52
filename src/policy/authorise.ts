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
 * the route accepts is in client.permissions ∩ tenant.permissions.
 */
export function authorise (client: Grantee, tenant: TenantPolicy | undefined, tenantRef: string, route: RouteSpec): Decision {
  if (tenant === undefined || !(client.tenants.has('*') || client.tenants.has(tenant.id))) {
    return { allowed: false, code: 'TenantNotAllowed', message: `client '${client.name}' may not use tenant '${tenantRef}'` }
  }
  for (const permission of route.permissions) {
    if (client.permissions.has(permission) && tenant.permissions.has(permission)) return { allowed: true, permission }
  }
  return {
    allowed: false,
    code: 'PermissionNotAllowed',
    message: `${route.method} ${route.template} needs one of ${route.permissions.join(', ')}, ` +
      `which the allowlists of client '${client.name}' and tenant '${tenant.id}' do not both grant`
  }
}

/** The permissions a token's `roles` claim grants for a route (case-insensitive, per reference §2.4). */
export function grantedByRoles (roles: ReadonlySet<string>, route: RouteSpec): boolean {
  return route.permissions.some((p) => roles.has(p.toLowerCase()))
}
