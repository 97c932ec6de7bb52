import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { readBoundedBody } from '../pipeline/bounded-body.js'
import { OAuthError } from './oauth-errors.js'

export interface TokenGuardOptions {
  /** the largest form body read (bytes) */
  readonly bodyLimit: number
  /** server.bodyIdleTimeoutMs: a body that stops arriving this long is cut off */
  readonly idleTimeoutMs: number
  /** server.requestDeadlineMs: a token request that takes longer is cut off */
  readonly deadlineMs: number
  /** oauth.maxInFlight: token requests at once (per process); more get 429 */
  maxInFlight (): number
}

type Done = (err: Error | null, body?: string) => void

/** Whether this request's body is still unread (a refusal must then close the connection). */
const pending = new WeakSet<FastifyRequest>()
const aborts = new WeakMap<FastifyRequest, (err: Error) => void>()

/**
 * The token endpoint is unauthenticated, so it has its own starvation guards, in its own scope: only a
 * form body of at most `bodyLimit` bytes is read (every other content type is refused unread), a body
 * that stops arriving is cut after `idleTimeoutMs`, every request after `deadlineMs`, and at most
 * `maxInFlight` requests are served at once.
 */
export function installTokenGuards (scope: FastifyInstance, options: TokenGuardOptions): void {
  let inFlight = 0
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('application/x-www-form-urlencoded', function readForm (request: FastifyRequest, payload: Readable, done) {
    const declared = Number(request.headers['content-length'] ?? '0')
    if (declared > options.bodyLimit) {
      done(tooLarge(options.bodyLimit), undefined)
      return
    }
    readBounded(request, payload, options, done as Done)
  })
  scope.addHook('onRequest', function guardTokenRequest (request, reply, done) {
    if (request.method === 'POST') pending.add(request)
    if (inFlight >= options.maxInFlight()) {
      done(new OAuthError('busy', `The gateway already serves ${options.maxInFlight()} token requests (oauth.maxInFlight); try again later.`, { 'retry-after': '1' }))
      return
    }
    inFlight++
    const deadline = setTimeout(onDeadline, options.deadlineMs, request, reply, options.deadlineMs)
    reply.raw.once('close', function releaseTokenSlot () {
      clearTimeout(deadline)
      inFlight--
    })
    done()
  })
  scope.addHook('preHandler', function bodyRead (request, _reply, done) {
    pending.delete(request)
    done()
  })
}

/** True while the request's body is unread or partly read: answers then carry Connection: close. */
export function bodyPending (request: FastifyRequest): boolean {
  return pending.has(request) && !request.raw.complete
}

function onDeadline (request: FastifyRequest, reply: FastifyReply, deadlineMs: number): void {
  const abort = aborts.get(request)
  const err = new OAuthError('timeout', `The token request did not complete within ${deadlineMs} ms (server.requestDeadlineMs).`)
  if (abort !== undefined) {
    abort(err)
    return
  }
  if (reply.sent || reply.raw.headersSent) reply.raw.destroy()
  else reply.send(err)
}

function tooLarge (limit: number): OAuthError {
  return new OAuthError('invalid_request', `The request body must be a form (application/x-www-form-urlencoded) of at most ${limit / 1024} KB.`)
}

function readBounded (request: FastifyRequest, payload: Readable, options: TokenGuardOptions, done: Done): void {
  const abort = readBoundedBody(payload, {
    limit: options.bodyLimit,
    idleTimeoutMs: options.idleTimeoutMs,
    refusals: {
      tooLarge: () => tooLarge(options.bodyLimit),
      idle: () => new OAuthError('timeout', `No byte of the request body arrived for ${options.idleTimeoutMs} ms (server.bodyIdleTimeoutMs).`),
      brokeOff: () => new OAuthError('invalid_request', 'The caller broke off its request body.')
    }
  }, (err, body) => {
    aborts.delete(request)
    if (err !== null) done(err)
    else done(null, (body ?? Buffer.alloc(0)).toString('utf8'))
  })
  aborts.set(request, abort)
}
