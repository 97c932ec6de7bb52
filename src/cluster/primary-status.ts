import cookie from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { SESSION_COOKIE, type StatusSessions } from '../pages/status/session.js'
import { createSignInLimit } from '../pages/status/sign-in-limit.js'
import { askWorker, type AdminCall } from './forward.js'
import type { WorkerAdmin } from './primary-admin.js'

export interface PrimaryStatusOptions {
  readonly sessions: StatusSessions
  /** the workers ready to answer admin calls */
  workerAdmins (): readonly WorkerAdmin[]
  readonly forwardTimeoutMs: number
  noWorker (request: FastifyRequest, reply: FastifyReply): Promise<void>
}

// What a page answer carries besides its body: the session and CSRF cookies, redirects, the pages' own
// security headers. Nothing else of the worker's answer is passed on.
const PASSED_ON = ['set-cookie', 'location', 'content-security-policy', 'x-frame-options', 'x-content-type-options', 'referrer-policy', 'cache-control']

type Params = { Params: { tenant: string } }

/**
 * The status pages on a cluster's one admin listener: each route is forwarded to a worker (which renders
 * it from its own state) on the path it was matched as, never the caller's spelling. The session rule is
 * kept here too: without a valid session (the same stateless, signed cookie every worker accepts) a
 * signed-in page is a redirect to the sign-in page and no worker is asked; a sign-out is remembered here,
 * where every request passes, so a signed-out cookie is refused whichever worker would have answered.
 */
export function forwardStatusPages (admin: FastifyInstance, options: PrimaryStatusOptions): void {
  const { sessions } = options
  admin.register(async function statusForward (scope) {
    await scope.register(cookie, { secret: sessions.cookieSecret })
    // Forms are replayed as sent (the worker checks the CSRF token and the body limit).
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => { done(null, body) })
    const sessionOf = (request: FastifyRequest): string | undefined => {
      const raw = request.cookies[SESSION_COOKIE]
      const unsigned = raw === undefined ? undefined : request.unsignCookie(raw)
      return unsigned?.valid === true && unsigned.value !== null ? unsigned.value : undefined
    }
    let turn = 0
    const one = (): WorkerAdmin[] => {
      const targets = options.workerAdmins()
      const target = targets[turn++ % Math.max(1, targets.length)]
      return target === undefined ? [] : [target]
    }
    const forward = async (request: FastifyRequest, reply: FastifyReply, path: string, targets: readonly WorkerAdmin[]): Promise<void> => {
      if (targets.length === 0) return await options.noWorker(request, reply)
      const call = callOf(request, path)
      const answers = await Promise.all(targets.map(async (t) => await askWorker(t.port, call, options.forwardTimeoutMs)))
      // Every worker did its part (a refresh); the caller sees the worst answer, or the first when all agree.
      const shown = answers.reduce((a, b) => (b.status >= 400 && b.status > a.status ? b : a))
      for (const name of PASSED_ON) {
        const value = shown.headers[name]
        if (value !== undefined) reply.header(name, value)
      }
      await reply.code(shown.status).type(shown.contentType).header('x-gateway-worker', String(targets[answers.indexOf(shown)]?.id)).send(shown.body)
    }
    scope.get('/status/sign-in', async function signIn (request, reply) { await forward(request, reply, '/status/sign-in', one()) })
    // Wrong admin tokens are counted here, where the caller's address is seen (workers see only ours).
    const limit = createSignInLimit(undefined)
    scope.post('/status/sign-in', async function signInPost (request, reply) {
      const address = request.socket.remoteAddress ?? 'unknown'
      const wait = limit.blockedFor(address)
      if (wait !== undefined) {
        return await reply.code(429).header('retry-after', String(wait)).header('content-security-policy', "default-src 'none'").type('text/html; charset=utf-8')
          .send(`<!doctype html><title>Sign in</title><p>Too many wrong tokens from your address; try again in ${Math.ceil(wait / 60)} minutes.</p>`)
      }
      await forward(request, reply, '/status/sign-in', one())
      if (reply.statusCode === 401) limit.fail(address)
    })
    scope.post('/status/sign-out', async function signOut (request, reply) {
      const value = sessionOf(request)
      await forward(request, reply, '/status/sign-out', one())
      // Only once a worker accepted the form (CSRF): a cross-site post cannot sign anyone out.
      if (value !== undefined && reply.statusCode === 303) sessions.close(value)
    })
    await scope.register(async function signedIn (pages) {
      pages.addHook('onRequest', async function requireSession (request, reply) {
        const value = sessionOf(request)
        if (value !== undefined && sessions.valid(value)) return
        await reply.code(303).redirect('/status/sign-in')
      })
      pages.get('/status', async function tenants (request, reply) { await forward(request, reply, '/status', one()) })
      pages.get('/status/clients', async function clients (request, reply) { await forward(request, reply, '/status/clients', one()) })
      pages.get('/status/regions', async function regions (request, reply) { await forward(request, reply, '/status/regions', one()) })
      pages.get<Params>('/status/tenants/:tenant', async function tenant (request, reply) {
        await forward(request, reply, `/status/tenants/${encodeURIComponent(request.params.tenant)}`, one())
      })
      // Each worker holds its own token (or its own view of Redis's): a refresh must reach all of them.
      pages.post<Params>('/status/tenants/:tenant/refresh', async function refresh (request, reply) {
        await forward(request, reply, `/status/tenants/${encodeURIComponent(request.params.tenant)}/refresh`, options.workerAdmins())
      })
    })
  })
}

/** The call replayed on a worker: the matched path and the query, the cookies and the form, nothing else. */
function callOf (request: FastifyRequest, path: string): AdminCall {
  const q = request.url.indexOf('?')
  const headers: Record<string, string> = {}
  const cookies = request.headers.cookie
  if (typeof cookies === 'string') headers.cookie = cookies
  const body = typeof request.body === 'string' ? request.body : undefined
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    headers['content-length'] = String(Buffer.byteLength(body))
  }
  return { method: request.method, url: q < 0 ? path : `${path}${request.url.slice(q)}`, authorization: undefined, requestId: request.id, headers, body }
}
