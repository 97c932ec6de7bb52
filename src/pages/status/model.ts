import type { ClientConfig, TenantConfig } from '../../config/schema.js'
import type { BudgetUsage } from '../../limits/types.js'
import { explain } from '../../policy/explain.js'
import type { RouteSpec } from '../../policy/catalogue-data.js'
import type { TokenStatus } from '../../tokens/types.js'
import { API_TITLES, type ApiKey } from '../../graph/consent.js'
import { apiOfPermission } from '../../graph/vocabulary.js'
import { splitGranted } from '../../policy/consent.js'
import { tenantApiKeys } from '../permissions.js'

/** What the status pages read: cached state only, so a page of 300 tenants makes no network call. */
export interface StatusSources {
  /** the config in force (a reload replaces it) */
  current (): { readonly tenants: readonly TenantConfig[], readonly clients: readonly ClientConfig[] }
  readonly routes: () => readonly RouteSpec[]
  /** the cached state of the tenant's token for one API (each API has its own provider, no I/O) */
  tokenStatus (tenantId: string, api: ApiKey): TokenStatus
  usage (tenantId: string): BudgetUsage[]
  /** the region the tenant's next request would go to */
  region (tenantId: string, allowed: readonly string[] | undefined): string | undefined
  consentUrl (tenantId: string): string
  /** the signed onboarding link to send the tenant's admin; undefined when onboarding is off */
  onboardingUrl (tenantId: string): string | undefined
  readonly now: () => number
}

/** ok | stale (renewal failing, old token served) | refused (not onboarded) | failing | none (no token cached) */
export type TokenState = 'ok' | 'stale' | 'refused' | 'failing' | 'none'

/** One API of a tenant: its own token's state, and what that token grants of the permissions configured for it. */
export interface ApiRow {
  readonly key: ApiKey
  readonly api: string
  readonly granted: string[]
  readonly missing: string[]
  readonly tokenState: TokenState
  readonly expiresOn: string | undefined
  readonly lastError: { kind: string, message: string, at: string } | undefined
}

/** One row of the tenants table. */
export interface TenantRow {
  readonly name: string
  readonly id: string
  readonly apis: ApiRow[]
  /** the worst of the APIs' token states (the summary line counts tenants by it) */
  readonly tokenState: TokenState
  readonly region: string
  readonly budget: { minute: number, hour: number, perMinute: number | null, perHour: number | null }
  readonly consentUrl: string
  readonly onboardingUrl: string | undefined
}

/** A tenant's row from cached state: each API's token decides that API's granted and missing, only when cached. */
export function tenantRow (tenant: TenantConfig, sources: StatusSources): TenantRow {
  const apis = tenantApiKeys(tenant.permissions).map((key) => apiRow(key, tenant, sources.tokenStatus(tenant.id, key)))
  const usage = sources.usage(tenant.id)
  const defaults = usage.find((u) => u.rateClass === 'default')
  return {
    name: tenant.name ?? '',
    id: tenant.id,
    apis,
    tokenState: worst(apis.map((a) => a.tokenState)),
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

function apiRow (key: ApiKey, tenant: TenantConfig, status: TokenStatus): ApiRow {
  const configured = [...tenant.permissions].filter((p) => apiOfPermission(p) === key).sort()
  return {
    key,
    api: API_TITLES[key],
    // No token: nothing is known, so neither list is filled ("unknown", not "all missing").
    ...(status.token === undefined ? { granted: [], missing: [] } : splitGranted(configured, status.token.roles)),
    tokenState: stateOf(status),
    expiresOn: status.token === undefined ? undefined : new Date(status.token.expiresOn).toISOString(),
    lastError: status.lastError === undefined ? undefined : { kind: status.lastError.kind, message: status.lastError.message, at: new Date(status.lastError.at).toISOString() }
  }
}

// Worst first: a tenant is only as usable as its least usable API.
const SEVERITY: readonly TokenState[] = ['refused', 'failing', 'none', 'stale', 'ok']

function worst (states: readonly TokenState[]): TokenState {
  return SEVERITY.find((s) => states.includes(s)) ?? 'none'
}

function stateOf (status: TokenStatus): TokenState {
  if (status.token !== undefined) return status.token.stale ? 'stale' : 'ok'
  if (status.refusedUntil !== undefined) return 'refused'
  return status.lastError === undefined ? 'none' : 'failing'
}

/** Per client: may it use the tenant, and with which permissions (the allowlist arithmetic of `explain`). */
export function clientsForTenant (tenant: TenantConfig, sources: StatusSources): Array<{ client: string, allowed: boolean, permissions: string[], routes: number, granted: string[] }> {
  // A permission counts as granted only in the token of its own API.
  const roles = { defender: sources.tokenStatus(tenant.id, 'defender').token?.roles, graph: sources.tokenStatus(tenant.id, 'graph').token?.roles }
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
      granted: allowed ? answer.permissions.filter((p) => roles[apiOfPermission(p)]?.has(p.toLowerCase()) === true) : []
    }
  })
}
