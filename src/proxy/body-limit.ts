import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'
import { readBoundedBody } from '../pipeline/bounded-body.js'
import { bodyRefusal } from './body-rules.js'

/** Raised when the body is larger than server.bodyLimitBytes, declared or counted. */
export class BodyTooLarge extends GatewayError {
  constructor (limit: number) {
    super('PayloadTooLarge', `The request body is larger than the gateway forwards (${limit} bytes).`)
  }
}

/** Raised when the caller stops sending its body (idle timeout) or misses the request deadline. */
export class BodyTimeout extends GatewayError {
  constructor (message: string) {
    super('RequestTimeout', `${message}; nothing was forwarded.`)
  }
}

export interface BodyOptions {
  readonly limit: number
  readonly idleTimeoutMs: number
  /** counts a body cut off by the idle timeout */
  idle (): void
}

type Done = (err: Error | null, body?: Buffer) => void

/**
 * Request bodies (any content type) are read whole into memory before anything is sent upstream, so a
 * slow uploader holds a gateway socket, never a pooled connection to Defender. Bounded: a declared
 * length over the limit is refused before reading, a counted one as soon as it passes the limit, and a
 * body that stops arriving for `idleTimeoutMs` is answered 408.
 */
export function installBodyBuffering (app: FastifyInstance, options: BodyOptions): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', function bufferBody (request: FastifyRequest, payload, done) {
    const declared = Number(request.headers['content-length'] ?? '0')
    if (declared > options.limit) {
      done(new BodyTooLarge(options.limit), undefined)
      return
    }
    readWhole(request, payload, options, done as Done)
  })
}

function readWhole (request: FastifyRequest, payload: Readable, options: BodyOptions, done: Done): void {
  const abort = readBoundedBody(payload, {
    limit: options.limit,
    idleTimeoutMs: options.idleTimeoutMs,
    refusals: {
      tooLarge: () => new BodyTooLarge(options.limit),
      idle: () => {
        options.idle()
        return new BodyTimeout(`No byte of the request body arrived for ${options.idleTimeoutMs} ms (server.bodyIdleTimeoutMs)`)
      },
      brokeOff: () => new GatewayError('BadRequest', 'The caller broke off its request body.')
    }
  }, (err, body) => {
    request.gw.abortBody = undefined
    // Judged once whole, on the route the router matched: a body Defender or Graph cannot read is never forwarded.
    const refusal = err === null && body !== undefined ? bodyRefusal(request.gw.route, request.headers['content-type'], body) : undefined
    if (refusal !== undefined) done(new GatewayError(refusal.code, refusal.message))
    else done(err, body)
  })
  // The request deadline (src/proxy/guards.ts) ends a body that is still arriving through this.
  request.gw.abortBody = abort
}
