import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ClientEntry } from '../callers/authenticate.js'
import type { OAuthConfig } from '../config/schema.js'
import type { KeyRing } from '../gateway-tokens/keys.js'
import type { PolicyHolder } from '../pipeline/policy-state.js'
import { parseTokenRequest } from './form.js'
import { grantedRoles, indexByClientId, requestedResource, secretMatches, tenantFor, type EndpointVersion } from './grant.js'
import { normaliseResource } from '../gateway-tokens/claims.js'
import { apiOfPermission } from '../graph/vocabulary.js'
import { createGuessLimiter } from './guess-limit.js'
import { bodyPending, installTokenGuards } from './guards.js'
import { FLEET_TENANT } from '../gateway-tokens/claims.js'
import { signToken, tokenResponse } from './issue.js'
import { openIdConfiguration } from './metadata.js'
import type { OAuthMetrics } from './metrics.js'
import { OAuthError, renderOAuthError, toOAuthError } from './oauth-errors.js'

export interface TokenEndpointOptions {
  readonly oauth: OAuthConfig
  readonly ring: KeyRing
  /** normalised Defender API identifiers of the configured cloud */
  readonly resources: ReadonlySet<string>
  /** those of `resources` that name Microsoft Graph: their tokens carry Graph permissions only */
  readonly graphResources?: ReadonlySet<string>
  /** tenants (by id and alias) come from the policy in force */
  readonly policy: PolicyHolder
  readonly clients: readonly ClientEntry[]
  readonly metrics: OAuthMetrics
  /** the gateway's own base URL as callers reach it (config or listener; never the caller's Host) */
  publicBase (request: FastifyRequest): string
  /** server.trustProxy: the guessing limit then keys on the right-most X-Forwarded-For entry */
  readonly trustProxy: boolean
  /** server.bodyIdleTimeoutMs and server.requestDeadlineMs, as on API requests */
  readonly bodyIdleTimeoutMs: number
  readonly requestDeadlineMs: number
  /** ms since the epoch; injectable */
  now (): number
  /** fleet reads are on: tokens may be issued for `organizations` (every tenant of the client, fleet reads only) */
  readonly fleet?: boolean
}

const FORM_LIMIT = 16 * 1024
// What @azure/identity accepts as a tenant (GUID, domain, `organizations`), bounded like a DNS name.
const TENANT_REFERENCE = /^[0-9a-zA-Z.-]{1,253}$/
type TenantParams = { Params: { tenant: string } }

/** What a reload applies: the clients, and the oauth section with its keys (undefined: the section was removed). */
export interface TokenEndpointReload {
  readonly clients: readonly ClientEntry[]
  readonly oauth?: { readonly config: OAuthConfig, readonly ring: KeyRing }
}

/**
 * The OAuth2 client-credentials endpoint Defender connectors already speak (v1 and v2) plus the metadata
 * MSAL fetches, in its own encapsulated scope: its own form parser and errors in Entra's shape.
 * Returns `reload` so a new config's clients, oauth settings and keys take effect at once; with the oauth
 * section removed, every path of the endpoint answers as when oauth is off (the gateway's not-found path:
 * 401 without an API key).
 */
export async function registerTokenEndpoint (app: FastifyInstance, options: TokenEndpointOptions): Promise<{ reload (next: TokenEndpointReload): void }> {
  let clients = indexByClientId(options.clients)
  let current: { config: OAuthConfig, ring: KeyRing } | undefined = { config: options.oauth, ring: options.ring }
  const limiterFor = (config: OAuthConfig) => createGuessLimiter({ maxFailures: config.maxFailures, windowMs: config.failureWindowSeconds * 1000, now: options.now })
  let limiter = limiterFor(options.oauth)
  const { metrics } = options

  async function issue (version: EndpointVersion, request: FastifyRequest<TenantParams>, reply: FastifyReply): Promise<Record<string, unknown> | FastifyReply> {
    const oauth = current
    if (oauth === undefined) return notFound(reply)
    const form = parseTokenRequest(typeof request.body === 'string' ? request.body : '', request.headers.authorization)
    if (form.grantType !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', 'The gateway supports only the client_credentials grant.')
    }
    const client = clients.get(form.clientId.toLowerCase())
    if (client !== undefined) request.gw.client = { name: client.name, tenants: new Set(), permissions: new Set() }
    // Failures are limited per source address and per (client, address): the right secret from an
    // address that has not failed itself is never refused, so nobody can lock a client out.
    const address = sourceAddress(request, options.trustProxy)
    const addressKey = `a:${address}`
    refuseWhileBlocked(limiter.blockedFor(addressKey))
    if (client === undefined) {
      limiter.fail(addressKey)
      throw new OAuthError('unknown_client', 'Application with the given identifier was not found in the gateway\'s clients.')
    }
    const pairKey = `p:${client.name.toLowerCase()}\u0000${address}`
    refuseWhileBlocked(limiter.blockedFor(pairKey))
    if (form.clientSecret === undefined) throw new OAuthError('missing_secret', "The request body must contain 'client_secret' (or use HTTP Basic).")
    if (!secretMatches(form.clientSecret, client.keySha256)) {
      limiter.fail(addressKey)
      limiter.fail(pairKey)
      // Per client: an alarm only (once per window), never a lockout.
      if (limiter.fail(`c:${client.name.toLowerCase()}`) === oauth.config.maxFailures) {
        request.log.warn({ audit: true, event: 'client_secret_guessing', client: client.name, failures: oauth.config.maxFailures, windowSeconds: oauth.config.failureWindowSeconds }, 'many failed client authentications for one client (not locked out; sources are limited one by one)')
      }
      throw new OAuthError('wrong_secret', `Invalid client secret provided for application '${client.clientId ?? client.name}': the secret is the gateway API key of that client.`)
    }
    const fleet = options.fleet === true && request.params.tenant.toLowerCase() === FLEET_TENANT
    const tenant = fleet ? { id: FLEET_TENANT } : tenantFor(request.params.tenant, options.policy.current.tenants, client)
    request.gw.tenantId = tenant.id
    const resource = requestedResource(version, form, options.resources)
    const api = options.graphResources?.has(normaliseResource(resource)) === true ? 'graph' : 'defender'
    if (fleet && api !== 'defender') throw new OAuthError('scope', `The tenant '${FLEET_TENANT}' (fleet reads) takes tokens for the Defender for Endpoint API only.`)
    // A fleet token carries the client's own permissions of that API; each tenant's allowlist applies per read.
    const roles = 'permissions' in tenant ? grantedRoles(client, tenant, api) : client.permissions.filter((p) => apiOfPermission(p) === api).sort()
    const issued = await signToken({ client, tenantId: tenant.id, resource, roles }, { ring: oauth.ring, issuer: oauth.config.issuer, lifetimeSeconds: oauth.config.tokenLifetimeSeconds }, options.now())
    metrics.issued.inc({ client: client.name, version })
    request.log.info({ audit: true, event: 'token_issued', client: client.name, tenant: tenant.id, resource, roles, jti: issued.jti, expiresOn: issued.exp }, 'token issued')
    noStore(reply)
    return tokenResponse(version, issued, resource)
  }

  function metadata (version: 'v1' | 'v2') {
    return async function openIdMetadata (request: FastifyRequest<TenantParams>, reply: FastifyReply): Promise<Record<string, unknown> | FastifyReply> {
      if (current === undefined) return notFound(reply)
      const ref = request.params.tenant
      // The same document for every well-formed reference, configured or not: metadata must not tell
      // anyone which customers exist (MSAL swaps the tenant segment anyway; the token POST decides).
      if (!TENANT_REFERENCE.test(ref)) throw new OAuthError('invalid_request', 'The tenant in the URL is not a tenant ID or domain name.')
      return openIdConfiguration(options.publicBase(request), ref, version)
    }
  }

  await app.register(async function tokenEndpoint (scope) {
    scope.addHook('onRequest', function markTokenRequest (request, reply, done) {
      request.gw = {}
      reply.header('x-request-id', request.id)
      done()
    })
    installTokenGuards(scope, {
      bodyLimit: FORM_LIMIT,
      idleTimeoutMs: options.bodyIdleTimeoutMs,
      deadlineMs: options.requestDeadlineMs,
      maxInFlight: () => (current ?? { config: options.oauth }).config.maxInFlight
    })
    scope.setErrorHandler(function renderTokenError (error, request, reply) {
      const err = toOAuthError(error)
      if (err.reason === 'server_error') request.log.error({ err: error }, 'token endpoint failed')
      metrics.refused.inc({ client: request.gw?.client?.name ?? 'unknown', reason: err.reason })
      noStore(reply)
      // A body we will not read (refused, cut off) must not keep the caller's connection: close it.
      if (bodyPending(request)) reply.header('connection', 'close')
      reply.code(err.status).headers(err.headers).type('application/json; charset=utf-8')
        .send(renderOAuthError(err, request.id, new Date(options.now())))
    })
    // Elastic's defaults join a login URL ending in '/' with '/{tenant}/...': accept that one doubled slash.
    for (const root of ['/', '//']) {
      scope.post<TenantParams>(`${root}:tenant/oauth2/token`, async (request, reply) => await issue('v1', request, reply))
      scope.post<TenantParams>(`${root}:tenant/oauth2/v2.0/token`, async (request, reply) => await issue('v2', request, reply))
    }
    scope.get<TenantParams>('/:tenant/v2.0/.well-known/openid-configuration', metadata('v2'))
    scope.get<TenantParams>('/:tenant/.well-known/openid-configuration', metadata('v1'))
    // The gateway signs with a shared secret (HS256): there is no public key to publish.
    const noKeys = async (_request: FastifyRequest, reply: FastifyReply): Promise<Record<string, unknown> | FastifyReply> => current === undefined ? notFound(reply) : { keys: [] }
    scope.get('/:tenant/discovery/v2.0/keys', noKeys)
    scope.get('/:tenant/discovery/keys', noKeys)
  })
  return {
    reload (next) {
      clients = indexByClientId(next.clients)
      if (next.oauth !== undefined && current !== undefined &&
        (next.oauth.config.maxFailures !== current.config.maxFailures || next.oauth.config.failureWindowSeconds !== current.config.failureWindowSeconds)) {
        limiter = limiterFor(next.oauth.config)
      }
      if (next.oauth !== undefined && current === undefined) limiter = limiterFor(next.oauth.config)
      current = next.oauth === undefined ? undefined : { config: next.oauth.config, ring: next.oauth.ring }
    }
  }
}

/**
 * The address failures are counted against: the socket's peer, or with server.trustProxy the right-most
 * X-Forwarded-For entry (the one the trusted proxy appended). Never fastify's request.ip, which with
 * trustProxy is the left-most entry, chosen by the caller.
 */
export function sourceAddress (request: FastifyRequest, trustProxy: boolean): string {
  const socketAddress = request.socket.remoteAddress ?? 'unknown'
  if (!trustProxy) return socketAddress
  const header = request.headers['x-forwarded-for']
  const joined = Array.isArray(header) ? header.join(',') : header
  const last = joined?.split(',').map((part) => part.trim()).filter((part) => part !== '').at(-1)
  return last ?? socketAddress
}

function refuseWhileBlocked (retryAfter: number | undefined): void {
  if (retryAfter === undefined) return
  throw new OAuthError('too_many_failures', 'Too many failed client authentications; try again later.', { 'retry-after': String(retryAfter) })
}

/** oauth removed by a reload: the gateway's own not-found path, as if the endpoint were never registered. */
function notFound (reply: FastifyReply): FastifyReply {
  reply.callNotFound()
  return reply
}

function noStore (reply: FastifyReply): void {
  reply.header('cache-control', 'no-store, no-cache').header('pragma', 'no-cache')
}
