import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Authenticator } from '../callers/authenticate.js'
import { GatewayError } from '../errors.js'
import { parseTarget } from '../policy/path.js'
import type { RouteMatcher } from '../policy/match.js'
import { authorise } from '../policy/authorise.js'
import type { TenantEntry } from './state.js'

export interface AdmitDeps {
  readonly authenticate: Authenticator
  readonly matchRoute: RouteMatcher
  /** by lowercase id and by lowercase alias */
  readonly tenants: ReadonlyMap<string, TenantEntry>
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
      request.gw = {}
      done(decide(request) ?? undefined)
    },
    /** for requests fastify's router did not match (unusual methods): same checks, same answers */
    notFound: async function admitUnrouted (request: FastifyRequest, reply: FastifyReply): Promise<never> {
      reply.header('x-request-id', request.id)
      request.gw = {}
      throw decide(request) ?? new GatewayError('MethodNotAllowed', `Method ${request.method} is not supported by the Defender API.`)
    }
  }

  function decide (request: FastifyRequest): GatewayError | undefined {
    const state = request.gw
    const client = deps.authenticate(request.headers)
    if (client === undefined) {
      return new GatewayError('GatewayUnauthenticated', 'Send a valid gateway API key in X-API-Key or Authorization: Bearer.')
    }
    state.client = client
    if (!FORWARDED_METHODS.has(request.method)) {
      return new GatewayError('MethodNotAllowed', `Method ${request.method} is not supported by the Defender API.`)
    }
    const parsed = parseTarget(request.url)
    if (!parsed.ok) return new GatewayError('BadRequest', `Rejected request path: ${parsed.reason}.`)
    const { target } = parsed
    const method = request.method === 'HEAD' ? 'GET' : request.method
    const route = deps.matchRoute(method, target.segments)
    if (route === undefined) {
      return new GatewayError('UnknownRoute', `${request.method} ${target.upstreamPath} is not a Defender for Endpoint API route the gateway knows.`)
    }
    state.route = route
    state.upstreamPath = target.upstreamPath
    state.query = target.query
    const tenant = deps.tenants.get(target.tenantRef)
    const decision = authorise(client, tenant, target.tenantRef, route)
    if (!decision.allowed) return new GatewayError(decision.code, decision.message)
    state.tenantId = tenant?.id
    state.tenantRef = target.tenantRef
    state.permission = decision.permission
    return undefined
  }
}
