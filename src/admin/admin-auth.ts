import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR_STATUS, renderError } from '../errors.js'

/** The admin token as config holds it (a secret reference, revealed only here). */
export type AdminToken = { reveal (): string } | undefined

/**
 * Registers the admin API in a plugin scope of its own whose onRequest hook checks
 * `Authorization: Bearer <admin.token>`. The hook belongs to the routes the router matched, not to a
 * spelling of the URL: `/%61dmin/...`, absolute-form targets and whatever else the router decodes to
 * an admin route reach the check. Without a token nothing is registered: the admin API does not exist.
 */
export function registerAdminApi (admin: FastifyInstance, token: AdminToken, routes: (scope: FastifyInstance) => void): void {
  if (token === undefined) return
  admin.register(async function adminApi (scope) {
    scope.addHook('onRequest', async function checkAdminToken (request: FastifyRequest, reply: FastifyReply) {
      if (hasAdminToken(request, token)) return
      await unauthenticated(request, reply)
    })
    routes(scope)
  })
}

/**
 * Unknown paths on an admin listener: 404 NotFound in the gateway's error shape, saying when the admin API
 * is off. With the admin API on, a caller without the admin token gets the same 401 as on an admin route,
 * so unknown and existing paths look alike to someone probing without the token.
 */
export function adminNotFound (admin: FastifyInstance, token: AdminToken): void {
  const hint = token === undefined ? ' The admin API is off: set admin.token in the config to use it.' : ''
  admin.setNotFoundHandler(async function unknownAdminPath (request, reply) {
    if (token !== undefined && !hasAdminToken(request, token)) return await unauthenticated(request, reply)
    await reply.code(ERROR_STATUS.NotFound).type('application/json; charset=utf-8').header('x-request-id', request.id)
      .send(renderError('NotFound', `${request.method} is not answered on this path of the admin listener.${hint}`, request.id))
  })
}

/** true when the request carries `Authorization: Bearer <admin.token>` (digests compared in constant time). */
function hasAdminToken (request: FastifyRequest, token: NonNullable<AdminToken>): boolean {
  const auth = request.headers.authorization
  const given = typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : ''
  return timingSafeEqual(digest(given), digest(token.reveal()))
}

async function unauthenticated (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply.code(ERROR_STATUS.GatewayUnauthenticated).type('application/json; charset=utf-8').header('x-request-id', request.id)
    .send(renderError('GatewayUnauthenticated', 'Send the admin token as Authorization: Bearer <token>.', request.id))
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
