import type { ClientConfig, TenantConfig } from '../../config/schema.js'
import type { BudgetUsage } from '../../limits/types.js'
import { explain } from '../../policy/explain.js'
import type { RouteSpec } from '../../policy/catalogue-data.js'
import type { TokenStatus } from '../../tokens/types.js'
import { grantedVsConfigured, tenantApis } from '../permissions.js'

/** What the status pages read: cached state only, so a page of 300 tenants makes no network call. */
export interface StatusSources {
  /** the config in force (a reload replaces it) */
  current (): { readonly tenants: readonly TenantConfig[], readonly clients: readonly ClientConfig[] }
  readonly routes: () => readonly RouteSpec[]
  tokenStatus (tenantId: string): TokenStatus
  usage (tenantId: string): BudgetUsage[]
  /** the region the tenant's next request would go to */
  region (tenantId: string, allowed: readonly string[] | undefined): string | undefined
  consentUrl (tenantId: string): string
  /** the signed onboarding link to send the tenant's admin; undefined when onboarding is off */
  onboardingUrl (tenantId: string): string | undefined
  readonly now: () => number
}

/** One row of the tenants table. */
export interface TenantRow {
  readonly name: string
  readonly id: string
  readonly apis: Array<{ api: string, granted: string[], missing: string[] }>
  /** ok | stale (renewal failing, old token served) | refused (not onboarded) | failing | none (no token cached) */
  readonly tokenState: 'ok' | 'stale' | 'refused' | 'failing' | 'none'
  readonly expiresOn: string | undefined
  readonly lastError: { kind: string, message: string, at: string } | undefined
  readonly region: string
  readonly budget: { minute: number, hour: number, perMinute: number | null, perHour: number | null }
  readonly consentUrl: string
  readonly onboardingUrl: string | undefined
}

/** A tenant's row from cached state: token roles decide granted and missing, only when a token is cached. */
export function tenantRow (tenant: TenantConfig, sources: StatusSources): TenantRow {
  const status = sources.tokenStatus(tenant.id)
  const apis = tenantApis(tenant.permissions)
  const usage = sources.usage(tenant.id)
  const defaults = usage.find((u) => u.rateClass === 'default')
  return {
    name: tenant.name ?? '',
    id: tenant.id,
    apis: status.token === undefined ? apis.map((a) => ({ api: a.api, granted: [], missing: [] })) : grantedVsConfigured(apis, status.token.roles),
    tokenState: stateOf(status),
    expiresOn: status.token === undefined ? undefined : new Date(status.token.expiresOn).toISOString(),
    lastError: status.lastError === undefined ? undefined : { kind: status.lastError.kind, message: status.lastError.message, at: new Date(status.lastError.at).toISOString() },
    region: sources.region(tenant.id, tenant.regions) ?? 'none available',
    budget: {
      minute: usage.reduce((n, u) => n + u.lastMinute, 0),
      hour: usage.reduce((n, u) => n + u.lastHour, 0),
      perMinute: defaults?.perMinute ?? null,
      perHour: defaults?.perHour ?? null
    },
    consentUrl: sources.consentUrl(tenant.id),
    onboardingUrl: sources.onboardingUrl(tenant.id)
  }
}

function stateOf (status: TokenStatus): TenantRow['tokenState'] {
  if (status.token !== undefined) return status.token.stale ? 'stale' : 'ok'
  if (status.refusedUntil !== undefined) return 'refused'
  return status.lastError === undefined ? 'none' : 'failing'
}

/** Per client: may it use the tenant, and with which permissions (the allowlist arithmetic of `explain`). */
export function clientsForTenant (tenant: TenantConfig, sources: StatusSources): Array<{ client: string, allowed: boolean, permissions: string[], routes: number, granted: string[] }> {
  const roles = sources.tokenStatus(tenant.id).token?.roles
  const policyTenant = { id: tenant.id, permissions: new Set(tenant.permissions) }
  return sources.current().clients.map((c) => {
    const allowed = c.tenants.includes('*') || c.tenants.some((t) => t.toLowerCase() === tenant.id)
    const grantee = { name: c.name, tenants: new Set(c.tenants.map((t) => t.toLowerCase())), permissions: new Set(c.permissions) }
    const answer = explain(grantee, policyTenant, sources.routes())
    return {
      client: c.name,
      allowed,
      permissions: allowed ? [...answer.permissions] : [],
      routes: allowed ? answer.routes.length : 0,
      granted: allowed && roles !== undefined ? answer.permissions.filter((p) => roles.has(p.toLowerCase())) : []
    }
  })
}
