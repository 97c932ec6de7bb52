import { Transform, type TransformCallback } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'

/** Raised inside the body stream when a chunked body outgrows the limit mid-way. */
export class BodyTooLarge extends GatewayError {
  constructor (limit: number) {
    super('PayloadTooLarge', `The request body is larger than the gateway forwards (${limit} bytes).`)
  }
}

/** Counts bytes as they stream to Defender and fails the stream past the limit (no buffering). */
class LimitedBody extends Transform {
  #seen = 0
  constructor (readonly limit: number) { super() }
  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.limit) done(new BodyTooLarge(this.limit))
    else done(null, chunk)
  }
}

/**
 * Request bodies stay streams (any content type): a declared length over the limit is refused before
 * the body is read; a chunked body is cut off when it passes the limit.
 */
export function installBodyStreaming (app: FastifyInstance, limit: number): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', function streamBody (request: FastifyRequest, payload, done) {
    const declared = Number(request.headers['content-length'] ?? '0')
    if (declared > limit) {
      done(new BodyTooLarge(limit), undefined)
      return
    }
    const limited = new LimitedBody(limit)
    // only our own limit: a caller hanging up mid-upload also ends the stream with an error
    limited.once('error', (err) => { if (err instanceof BodyTooLarge) request.gw.bodyTooLarge = true })
    payload.once('error', (err) => limited.destroy(err))
    done(null, payload.pipe(limited))
  })
}
