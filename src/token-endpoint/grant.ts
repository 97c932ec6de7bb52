import { timingSafeEqual } from 'node:crypto'
import { keyHash, type ClientEntry } from '../callers/authenticate.js'
import { normaliseResource } from '../gateway-tokens/claims.js'
import type { TenantEntry } from '../pipeline/state.js'
import { OAuthError } from './oauth-errors.js'
import { apiOfPermission } from '../graph/vocabulary.js'
import type { TokenRequest } from './form.js'

/** v1 (`/oauth2/token`, `resource`) or v2 (`/oauth2/v2.0/token`, `scope`). */
export type EndpointVersion = 'v1' | 'v2'

/** Clients by lowercase clientId and by lowercase name: a connector may send either as client_id. */
export function indexByClientId (entries: readonly ClientEntry[]): ReadonlyMap<string, ClientEntry> {
  const byId = new Map<string, ClientEntry>()
  for (const e of entries) {
    byId.set(e.name.toLowerCase(), e)
    if (e.clientId !== undefined) byId.set(e.clientId.toLowerCase(), e)
  }
  return byId
}

/** The client's secret is its API key: compared as SHA-256, in constant time, like the key check. */
export function secretMatches (secret: string, keySha256: string): boolean {
  return timingSafeEqual(Buffer.from(keyHash(secret), 'hex'), Buffer.from(keySha256, 'hex'))
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access'])
const DEFAULT_SUFFIX = '/.default'

/**
 * The resource a token is asked for, as asked: v2 takes exactly one `{resource}/.default` scope (OIDC
 * scopes are ignored, as Entra does for client credentials); v1 takes `resource` without `/.default`.
 * Only the configured cloud's Defender API identifiers pass. Pure; throws OAuthError.
 */
export function requestedResource (version: EndpointVersion, request: TokenRequest, accepted: ReadonlySet<string>): string {
  let resource: string
  if (version === 'v2') {
    const scopes = (request.scope ?? '').split(' ').filter((s) => s !== '' && !OIDC_SCOPES.has(s.toLowerCase()))
    if (scopes.length === 0) throw new OAuthError('invalid_request', "The request body must contain the parameter 'scope'.")
    const scope = scopes[0] as string
    if (scopes.length > 1 || !scope.toLowerCase().endsWith(DEFAULT_SUFFIX)) {
      throw new OAuthError('scope', `The provided scope '${clip(request.scope)}' is not valid: client credentials need exactly one '{resource}/.default' scope of the Defender API.`)
    }
    resource = scope.slice(0, -DEFAULT_SUFFIX.length)
  } else {
    if (request.resource === undefined) throw new OAuthError('invalid_request', "The request body must contain the parameter 'resource'.")
    resource = request.resource
    if (resource.toLowerCase().endsWith(DEFAULT_SUFFIX)) {
      throw new OAuthError('scope', `The resource '${clip(resource)}' must not end with /.default on the v1 endpoint.`)
    }
  }
  if (!accepted.has(normaliseResource(resource))) {
    throw new OAuthError('scope', `The resource '${clip(resource)}' is neither the Defender for Endpoint API nor Microsoft Graph; the gateway issues tokens for those APIs only.`)
  }
  return resource
}

/** The tenant of the URL, if configured and in the client's list; one message for both, so no probing. */
export function tenantFor (ref: string, tenants: ReadonlyMap<string, TenantEntry>, client: ClientEntry): TenantEntry {
  const tenant = tenants.get(ref.toLowerCase())
  if (tenant === undefined || !(client.tenants.includes('*') || client.tenants.includes(tenant.id))) {
    throw new OAuthError('tenant', `Tenant '${clip(ref)}' not found or not allowed for application '${client.clientId ?? client.name}'.`)
  }
  return tenant
}

/**
 * `roles`: what the client may do in that tenant with the API the token is for, client allowlist ∩
 * tenant allowlist, sorted (a Graph token carries Graph permissions only, a Defender token Defender's).
 */
export function grantedRoles (client: ClientEntry, tenant: TenantEntry, api: 'defender' | 'graph' = 'defender'): string[] {
  return client.permissions.filter((p) => tenant.permissions.has(p) && apiOfPermission(p) === api).sort()
}

/** Caller-supplied text echoed in a message is cut short and kept printable. */
function clip (text: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (text ?? '').slice(0, 100).replace(/[\u0000-\u001f\u007f']/g, '?')
}
