import type { FastifyInstance } from 'fastify'
import { GatewayError } from '../errors.js'
import { explain } from '../policy/explain.js'
import { consentByApi } from '../graph/consent.js'
import type { TokenProvider } from '../tokens/types.js'
import type { PolicyHolder } from './policy-state.js'

export interface ExplainDeps {
  readonly policy: PolicyHolder
  readonly tokens: TokenProvider
  /** the Graph resource's tokens: consent is checked per API */
  readonly graphTokens: TokenProvider
  consentUrl (tenantId: string): string
}

/**
 * `GET /tenants/{tenant}/explain[?consent=check]`: the caller's effective permissions and the routes they
 * open in that tenant; with `consent=check`, also which of them the tenant has actually granted.
 * Same key check and tenant check as the API itself; nothing is forwarded.
 */
export function registerExplain (app: FastifyInstance, deps: ExplainDeps): void {
  app.get<{ Params: { tenant: string }, Querystring: { consent?: string } }>('/tenants/:tenant/explain', async function explainAccess (request, reply) {
    reply.header('x-request-id', request.id)
    request.gw = {}
    const policy = deps.policy.current
    const client = policy.authenticate(request.headers)
    if (client === undefined) throw new GatewayError('GatewayUnauthenticated', 'Send a valid gateway API key in X-API-Key or Authorization: Bearer.')
    request.gw.client = client
    const ref = request.params.tenant.toLowerCase()
    const tenant = policy.tenants.get(ref)
    if (tenant === undefined || !(client.tenants.has('*') || client.tenants.has(tenant.id))) {
      throw new GatewayError('TenantNotAllowed', `Client '${client.name}' may not use tenant '${request.params.tenant}': it is not a configured tenant in the client's tenants list.`)
    }
    request.gw.tenantId = tenant.id
    const answer = explain(client, tenant, policy.routes)
    if (request.query.consent !== 'check') return answer
    // Tokens are per resource, so are grants: each API's permissions against that API's token.
    const apis = await consentByApi({ defender: deps.tokens, graph: deps.graphTokens }, tenant.id, answer.permissions, request.id)
    const consentUrl = deps.consentUrl(tenant.id)
    const failed = apis.find((a) => !a.token.ok && a.token.errorClass !== 'not-configured')
    if (failed !== undefined && !failed.token.ok) return { ...answer, consent: { error: failed.token.error, consentUrl, apis } }
    return { ...answer, consent: { granted: apis.flatMap((a) => a.granted), missing: apis.flatMap((a) => a.missing), consentUrl, apis } }
  })
}
