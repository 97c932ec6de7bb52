import type { FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'
import { parseTarget } from '../policy/path.js'
import { authorise } from '../policy/authorise.js'
import { nonAsciiRejection } from '../policy/non-ascii.js'
import type { PolicyHolder } from './policy-state.js'

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
    const policy = deps.policy.current
    const client = policy.authenticate(request.headers)
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
    const route = policy.matchRoute(method, target.segments)
    const unsafe = nonAsciiRejection(policy.matchRoute, method, target.segments, route)
    if (unsafe !== undefined) return new GatewayError('BadRequest', `Rejected request path: ${unsafe}.`)
    if (route === undefined) {
      return new GatewayError('UnknownRoute', `${request.method} ${target.upstreamPath} is not a Defender for Endpoint API route the gateway knows.`)
    }
    state.route = route
    state.upstreamPath = target.upstreamPath
    state.query = target.query
    const tenant = policy.tenants.get(target.tenantRef)
    const decision = authorise(client, tenant, target.tenantRef, route)
    if (!decision.allowed) return new GatewayError(decision.code, decision.message)
    state.tenantId = tenant?.id
    state.tenantRef = target.tenantRef
    state.permission = decision.permission
    return undefined
  }
}
