import type { FastifyInstance } from 'fastify'
import { ERROR_STATUS, renderError } from '../errors.js'
import type { PolicyHolder } from '../pipeline/policy-state.js'
import { splitGranted } from '../policy/consent.js'
import type { RegionDirectory } from '../regions/directory.js'
import { TokenError, type TenantToken, type TokenProvider } from '../tokens/types.js'
import { consentByApi } from '../graph/consent.js'
import { apiOfPermission } from '../graph/vocabulary.js'

export interface AdminTenantDeps {
  readonly policy: PolicyHolder
  readonly tokens: TokenProvider
  /** the Graph resource's tokens (same app): consent is reported per API */
  readonly graphTokens: TokenProvider
  readonly regions: RegionDirectory
  consentUrl (tenantId: string): string
}

/**
 * `GET /admin/tenants/{tenant}`: configured vs granted permissions, missing consents with the link, the
 * token state or its error, and the regions the tenant's requests would try. `apis` lists the same per
 * API (Defender, Microsoft Graph), each from its own token; the top-level token is Defender's.
 * `POST /admin/tenants/{tenant}/refresh`: a new token now (after a consent change, say), or, inside the
 * tenant's re-acquisition cool-down, the token that window acquired (`shared`, `nextInSeconds`).
 * Roles are only ever read from a token the provider checked (its tenant, the configured resource).
 */
export function registerAdminTenantRoutes (admin: FastifyInstance, deps: AdminTenantDeps): void {
  const find = (ref: string): { id: string, permissions: ReadonlySet<string>, regions?: readonly string[] } | undefined =>
    deps.policy.current.tenants.get(ref.toLowerCase())

  admin.get<{ Params: { tenant: string } }>('/admin/tenants/:tenant', async function tenantStatus (request, reply) {
    const tenant = find(request.params.tenant)
    if (tenant === undefined) return await notConfigured(reply, request.params.tenant, request.id)
    const configured = [...tenant.permissions].sort()
    const apis = await consentByApi({ defender: deps.tokens, graph: deps.graphTokens }, tenant.id, configured, request.id)
    const base = { id: tenant.id, configured, regions: deps.regions.rank(tenant.regions).map((r) => r.name), consentUrl: deps.consentUrl(tenant.id), apis }
    const defender = apis[0]!
    if (!defender.token.ok) return { ...base, token: { ok: false, errorClass: defender.token.errorClass, error: defender.token.error } }
    const result = await deps.tokens.get(tenant.id, request.id)
    return {
      ...base,
      token: defender.token,
      granted: apis.flatMap((a) => a.granted),
      missing: apis.flatMap((a) => a.missing),
      roles: [...result.roles].sort()
    }
  })

  admin.post<{ Params: { tenant: string }, Querystring: { api?: string } }>('/admin/tenants/:tenant/refresh', async function forceRefresh (request, reply) {
    const tenant = find(request.params.tenant)
    if (tenant === undefined) return await notConfigured(reply, request.params.tenant, request.id)
    // `?api=graph` renews the tenant's Microsoft Graph token instead of the Defender one.
    const tokens = request.query.api === 'graph' ? deps.graphTokens : deps.tokens
    // Inside the tenant's cool-down window the refresh shares the window's token instead of asking Entra ID.
    const shared = tokens.reacquireWaitMs(tenant.id) > 0
    const result = await tokens.refresh(tenant.id, request.id).then((token) => token, (err: unknown) => err)
    const nextInSeconds = Math.ceil(tokens.reacquireWaitMs(tenant.id) / 1000)
    if (!isToken(result)) return await reply.code(503).send({ id: tenant.id, refreshed: false, shared, nextInSeconds, ...errorOf(result) })
    request.log.info({ tenant: tenant.id, shared }, 'token refreshed by an operator')
    return { id: tenant.id, refreshed: true, shared, nextInSeconds, expiresOn: new Date(result.expiresOn).toISOString(), ...grants([...tenant.permissions].filter((p) => apiOfPermission(p) === (request.query.api === 'graph' ? 'graph' : 'defender')).sort(), result) }
  })
}

function isToken (value: unknown): value is TenantToken {
  return typeof value === 'object' && value !== null && 'roles' in value
}

function grants (configured: readonly string[], token: TenantToken): { granted: string[], missing: string[], roles: string[] } {
  return { ...splitGranted(configured, token.roles), roles: [...token.roles].sort() }
}

function errorOf (err: unknown): { errorClass: string, error: string } {
  return { errorClass: err instanceof TokenError ? err.kind : 'error', error: err instanceof Error ? err.message : String(err) }
}

/** 404 in Defender's error shape, with the request id, like every other answer of the gateway. */
async function notConfigured (reply: import('fastify').FastifyReply, ref: string, id: string): Promise<void> {
  await reply.code(ERROR_STATUS.NotFound).type('application/json; charset=utf-8').header('x-request-id', id)
    .send(renderError('NotFound', `Tenant '${ref}' is not in the config: use the id or name of an entry of tenants:.`, id))
}
