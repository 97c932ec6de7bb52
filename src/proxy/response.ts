import { pipeline, type Readable, type Transform } from 'node:stream'
import { createBrotliCompress, createBrotliDecompress, createDeflate, createGzip, createGunzip, createInflate, constants as zlib } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { gatewayLinkRewriter, NextLinkTransform } from './next-link.js'
import { AuditTap } from './audit-tap.js'

type Codec = { decode: () => Transform, encode: () => Transform }

// Re-compression at a fast level: the body was compressed upstream for the caller's sake, and the
// gateway must not spend more CPU on it than the rewrite itself.
const CODECS: Record<string, Codec> = {
  gzip: { decode: createGunzip, encode: () => createGzip({ level: 4 }) },
  'x-gzip': { decode: createGunzip, encode: () => createGzip({ level: 4 }) },
  deflate: { decode: createInflate, encode: () => createDeflate({ level: 4 }) },
  br: { decode: createBrotliDecompress, encode: () => createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } }) }
}

const JSON_TYPE = /^application\/(?:[a-z0-9.+-]*\+)?json\b/i

/**
 * Sends Defender's answer to the caller as a stream; JSON bodies pass through the nextLink rewriter
 * (decompressed and compressed again around it when Defender compressed them). Never buffers a body.
 */
export function sendUpstreamBody (request: FastifyRequest, reply: FastifyReply, body: Readable, headers: Record<string, unknown>, publicUrl: string | undefined): void {
  const type = String(headers['content-type'] ?? '')
  const encoding = String(headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  const codec = CODECS[encoding]
  if (request.method === 'HEAD' || !JSON_TYPE.test(type) || (codec === undefined && encoding !== 'identity')) {
    reply.send(body)
    return
  }
  const base = publicUrl ?? `${request.protocol}://${request.host}`
  const rewriter = new NextLinkTransform(gatewayLinkRewriter(base, request.gw.tenantRef ?? ''))
  const inner: Transform[] = [rewriter]
  if (request.gw.route?.writes === true) {
    inner.push(new AuditTap((outcome) => { request.gw.writeOutcome = outcome }))
  }
  const stages: Array<Readable | Transform> = codec === undefined
    ? [body, ...inner]
    : [body, codec.decode(), ...inner, codec.encode()]
  reply.removeHeader('content-length')
  // pipeline destroys every stage when one fails or the caller goes away, which aborts the upstream.
  const out = pipeline(stages as [Readable, ...Transform[]], (err) => {
    if (err !== undefined && err !== null && !reply.raw.destroyed) request.log.warn({ err: err.message }, 'response stream failed')
  })
  reply.send(out)
}
