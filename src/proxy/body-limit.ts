import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'

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
  const chunks: Buffer[] = []
  let size = 0
  let settled = false
  const finish = (err: Error | null): void => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    request.gw.abortBody = undefined
    if (err === null) {
      done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
      return
    }
    // Stop reading; the error answer says Connection: close (src/pipeline/errors.ts).
    payload.pause()
    done(err)
  }
  const timer = setTimeout(() => {
    options.idle()
    finish(new BodyTimeout(`No byte of the request body arrived for ${options.idleTimeoutMs} ms (server.bodyIdleTimeoutMs)`))
  }, options.idleTimeoutMs)
  payload.on('data', (chunk: Buffer) => {
    if (settled) return
    size += chunk.length
    if (size > options.limit) {
      finish(new BodyTooLarge(options.limit))
      return
    }
    chunks.push(chunk)
    timer.refresh()
  })
  payload.once('end', () => finish(null))
  payload.once('error', () => finish(new GatewayError('BadRequest', 'The caller broke off its request body.')))
  payload.once('close', () => finish(new GatewayError('BadRequest', 'The caller broke off its request body.')))
  // The request deadline (src/proxy/guards.ts) ends a body that is still arriving through this.
  request.gw.abortBody = finish
}
