import type { FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'
import { presentedJwt, type Client } from '../callers/authenticate.js'
import { parseTarget, type TargetResult } from '../policy/path.js'
import { authorise } from '../policy/authorise.js'
import { nonAsciiRejection } from '../policy/non-ascii.js'
import { graphTarget, isGraphUrl } from '../graph/path.js'
import { FLEET_TENANT } from '../gateway-tokens/claims.js'
import type { Policy, PolicyHolder } from './policy-state.js'

export interface AdmitDeps {
  readonly policy: PolicyHolder
  /** true while shutting down: answers carry Connection: close so clients move off before the listener closes */
  draining (): boolean
}

const FORWARDED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT'])

/**
 * onRequest: everything decidable from the request line and headers, before the body is read and
 * before any call to Entra or Defender. Deny by default; throws GatewayError.
 */
export function createAdmit (deps: AdmitDeps) {
  return {
    hook: function admit (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
      reply.header('x-request-id', request.id)
      if (deps.draining()) reply.header('connection', 'close')
      request.gw = {}
      const policy = deps.policy.current
      const caller = callerOf(policy, request)
      if (!(caller instanceof Promise)) {
        done(decide(request, policy, caller) ?? undefined)
        return
      }
      // The same policy snapshot decides after the (async) token check, never a reloaded one.
      caller.then((tokenClient) => done(decide(request, policy, tokenClient) ?? undefined), done)
    },
    /** for requests fastify's router did not match (unusual methods): same checks, same answers */
    notFound: async function admitUnrouted (request: FastifyRequest, reply: FastifyReply): Promise<never> {
      reply.header('x-request-id', request.id)
      request.gw = {}
      const policy = deps.policy.current
      const client = await callerOf(policy, request)
      throw decide(request, policy, client) ?? methodNotAllowed(request)
    }
  }

  function decide (request: FastifyRequest, policy: Policy, client: Client | undefined): GatewayError | undefined {
    const state = request.gw
    if (client === undefined) {
      return new GatewayError('GatewayUnauthenticated', 'Send a valid gateway API key in X-API-Key or Authorization: Bearer (every credential sent must be valid).')
    }
    state.client = client
    if (client.tokenTenant === FLEET_TENANT) {
      return new GatewayError('TenantNotAllowed', `A gateway token for '${FLEET_TENANT}' reads the fleet only: GET /api/... at the root or /fleet/api/....`)
    }
    if (!FORWARDED_METHODS.has(request.method)) {
      return methodNotAllowed(request)
    }
    const coding = request.headers['content-encoding']
    if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
      // Content-Encoding is not forwarded (src/proxy/headers.ts): a compressed body would arrive as garbage.
      return new GatewayError('BadRequest', 'Send the request body uncompressed: the gateway does not forward Content-Encoding.')
    }
    const graph = isGraphUrl(request.url)
    if (graph) state.api = 'graph'
    const wrongToken = tokenApiRefusal(client, graph)
    if (wrongToken !== undefined) return wrongToken
    const parsed = graph ? graphTarget(request.url, client.tokenTenant) : targetOf(request.url, client)
    state.rootLayout = parsed.ok && parsed.root
    if (!parsed.ok) return new GatewayError('BadRequest', `Rejected request path: ${parsed.reason}.`)
    const { target } = parsed
    const method = request.method === 'HEAD' ? 'GET' : request.method
    const matchRoute = graph ? policy.matchGraphRoute : policy.matchRoute
    const route = matchRoute(method, target.segments)
    const unsafe = nonAsciiRejection(matchRoute, method, target.segments, route)
    if (unsafe !== undefined) return new GatewayError('BadRequest', `Rejected request path: ${unsafe}.`)
    if (route === undefined) {
      return new GatewayError('UnknownRoute', graph
        ? `${request.method} ${target.upstreamPath} is not a Microsoft Graph security route the gateway forwards (only the /security routes of its catalogue).`
        : `${request.method} ${target.upstreamPath} is not a Defender for Endpoint API route the gateway knows.`)
    }
    state.route = route
    state.upstreamPath = target.upstreamPath
    state.query = target.query
    const tenant = policy.tenants.get(target.tenantRef)
    const decision = authorise(client, tenant, target.tenantWritten, route)
    if (!decision.allowed) return new GatewayError(decision.code, decision.message)
    state.tenantId = tenant?.id
    state.tenantRef = target.tenantRef
    state.tenantWritten = target.tenantWritten
    state.permission = decision.permission
    return undefined
  }
}

/**
 * The caller, from one credential or from two that agree. Both X-API-Key and Authorization: Bearer sent:
 * each must be valid and name the same client, else the request is unauthenticated (an invalid credential
 * is never skipped in favour of another one).
 */
export function callerOf (policy: Policy, request: FastifyRequest): Client | undefined | Promise<Client | undefined> {
  const { headers } = request
  const apiKey = headers['x-api-key']
  const auth = headers.authorization
  const bearer = typeof auth === 'string' && auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth : undefined
  if (apiKey === undefined || bearer === undefined) return policy.authenticate(headers) ?? tokenCandidate(policy, request)
  const byKey = policy.authenticate({ 'x-api-key': apiKey })
  if (byKey === undefined) return undefined
  const byBearerKey = policy.authenticate({ authorization: bearer })
  if (byBearerKey !== undefined) return byBearerKey.name === byKey.name ? byKey : undefined
  const token = tokenCandidate(policy, request)
  if (token === undefined) return undefined
  return token.then((client) => client?.name === byKey.name ? client : undefined)
}

function tokenCandidate (policy: Policy, request: FastifyRequest): Promise<Client | undefined> | undefined {
  if (policy.authenticateToken === undefined) return undefined
  const jwt = presentedJwt(request.headers)
  return jwt === undefined ? undefined : policy.authenticateToken(jwt)
}

const ROOT_LAYOUT = /^\/api(?:[/?]|$)/i

/** A gateway token opens the routes of the API it was issued for, never the other one's. */
function tokenApiRefusal (client: Client, graph: boolean): GatewayError | undefined {
  if (client.tokenApi === undefined || client.tokenApi === (graph ? 'graph' : 'defender')) return undefined
  return new GatewayError('GatewayUnauthenticated', client.tokenApi === 'graph'
    ? 'This gateway token was issued for Microsoft Graph; ask the token endpoint for the Defender API resource to call Defender routes.'
    : 'This gateway token was issued for the Defender API; ask the token endpoint for scope https://graph.microsoft.com/.default to call Graph routes.')
}

/**
 * Defender's own layout (`/api/...`, no tenant prefix) is open only to a gateway token, and goes to the
 * token's tenant: parsed as `/tenants/{tid}/api/...` so one parser decides every path.
 */
function targetOf (url: string, client: Client): TargetResult & { root?: boolean } {
  if (client.tokenTenant === undefined || !ROOT_LAYOUT.test(url)) return { ...parseTarget(url), root: false }
  return { ...parseTarget(`/tenants/${client.tokenTenant}${url}`), root: true }
}

/** A method the gateway never forwards, worded for the API the path addresses. */
function methodNotAllowed (request: FastifyRequest): GatewayError {
  const api = isGraphUrl(request.url) ? 'the Microsoft Graph security API routes of the gateway' : 'the Defender API'
  return new GatewayError('MethodNotAllowed', `Method ${request.method} is not supported by ${api}.`)
}
