import type { FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'
import { grantedByRoles } from '../policy/authorise.js'
import type { RegionDirectory } from '../regions/directory.js'
import type { Region } from '../regions/select.js'
import type { RateBudgets } from '../limits/types.js'
import { TokenError, type TokenProvider } from '../tokens/types.js'
import type { PolicyHolder } from './policy-state.js'

export interface PrepareDeps {
  readonly tokens: TokenProvider
  readonly budgets: RateBudgets
  readonly policy: PolicyHolder
  readonly regions: RegionDirectory
  /** the Graph side (src/graph): its tokens (same app, Graph resource) and its one host */
  readonly graph: { readonly tokens: TokenProvider, readonly region: Region }
  /** counts the region each request goes to first */
  selected (region: string): void
  consentUrl (tenantId: string): string
}

/**
 * preHandler: the async part of a request that passed policy: the tenant's rate budget, its token
 * (cache or Entra; the provider checked it belongs to the tenant and the resource), the check that it
 * carries the role, and the region.
 */
export function createPrepare (deps: PrepareDeps) {
  return async function prepare (request: FastifyRequest): Promise<void> {
    const state = request.gw
    const tenantId = state.tenantId as string
    const route = state.route!
    const graph = route.api === 'graph'
    const api = graph ? 'Microsoft Graph' : 'Defender'
    // Both APIs throttle per (app, tenant): spend the budget here, before Entra or the API is asked anything.
    const budget = await deps.budgets.take(tenantId, route.rateClass, state.client!.name)
    if (!budget.ok) {
      throw new GatewayError('RateLimited',
        `Tenant ${tenantId} has used its ${api} budget for ${route.rateClass} calls` +
        `${budget.reason === 'upstream' ? ` (${api} asked to wait)` : ''}; retry after ${budget.retryAfterSeconds} s.`,
        { 'retry-after': String(budget.retryAfterSeconds) })
    }
    let token
    try {
      token = await (graph ? deps.graph.tokens : deps.tokens).get(tenantId, request.id)
    } catch (err) {
      throw tokenFailure(err, tenantId, deps.consentUrl(tenantId))
    }
    if (!grantedByRoles(token.roles, route)) {
      const named = state.tenantWritten ?? tenantId
      throw new GatewayError('PermissionNotGranted',
        `Tenant '${named}' (${tenantId}) has not granted the gateway's app the ${graph ? 'Microsoft Graph' : 'WindowsDefenderATP (Defender for Endpoint)'} ` +
        `application permission ${state.permission ?? route.permissions[0]}. A tenant admin can grant it at ${deps.consentUrl(tenantId)}; ` +
        `GET /tenants/${named}/explain?consent=check shows what it granted.`)
    }
    state.token = token
    if (graph) {
      state.region = deps.graph.region
      state.fallbacks = []
      return
    }
    const [region, ...fallbacks] = deps.regions.rank(deps.policy.current.tenants.get(tenantId)?.regions)
    if (region === undefined) {
      throw new GatewayError('UpstreamUnavailable', `No Defender region is allowed for tenant ${tenantId}.`)
    }
    state.region = region
    state.fallbacks = fallbacks
    deps.selected(region.name)
  }
}

/** A token failure as the gateway error a caller sees (consent link for a tenant not onboarded, Retry-After otherwise). */
export function tokenFailure (err: unknown, tenantId: string, consentUrl: string): GatewayError {
  if (err instanceof TokenError && err.kind === 'not-onboarded') {
    return new GatewayError('TenantNotOnboarded', `${err.message}. A tenant admin can consent at ${consentUrl}`)
  }
  const message = err instanceof TokenError ? err.message : `no token for tenant ${tenantId}`
  // Entra's Retry-After or what is left of the tenant's backoff, so callers come back when it can work.
  const retryAfter = err instanceof TokenError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds : 5
  return new GatewayError('TokenUnavailable', `${message}; retry later.`, { 'retry-after': String(retryAfter) })
}
