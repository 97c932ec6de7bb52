import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { renderError } from '../errors.js'

/**
 * `/admin/*` needs `Authorization: Bearer <admin.token>`; without an admin token in config the admin
 * API is off (the scrape and probe endpoints stay open: they reveal no tenant data).
 */
export function protectAdminRoutes (admin: FastifyInstance, token: { reveal (): string } | undefined): void {
  const expected = token === undefined ? undefined : digest(token.reveal())
  admin.addHook('onRequest', async function checkAdminToken (request: FastifyRequest, reply: FastifyReply) {
    if (!request.url.startsWith('/admin/') && request.url !== '/admin') return
    const deny = async (status: number, code: 'GatewayUnauthenticated' | 'UnknownRoute', message: string): Promise<void> => {
      await reply.code(status).type('application/json; charset=utf-8').header('x-request-id', request.id).send(renderError(code, message, request.id))
    }
    if (expected === undefined) return await deny(403, 'UnknownRoute', 'The admin API is off: set admin.token in the config to use it.')
    const auth = request.headers.authorization
    const given = typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : ''
    // Compare digests: equal length, constant time, whatever the caller sent.
    if (!timingSafeEqual(digest(given), expected)) return await deny(401, 'GatewayUnauthenticated', 'Send the admin token as Authorization: Bearer <token>.')
  })
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
