import { pipeline, type Readable, type Transform } from 'node:stream'
import { createBrotliCompress, createBrotliDecompress, createDeflate, createGzip, createGunzip, createInflate, constants as zlib } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'
import { gatewayLinkRewriter, NextLinkTransform, rewriteNextLinks, type LinkRewriter } from './next-link.js'
import { AuditTap, KEEP, readOutcome } from './audit-tap.js'

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
 * Uncompressed JSON answers of a declared length up to this size are read whole, rewritten in one pass
 * and sent with a length: most Defender answers are a page of this size, and a chain of stream stages
 * costs more CPU per request than the rewrite itself. Bounded, so memory per request stays small.
 */
const WHOLE_BODY_MAX = 256 * 1024

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
  const rewrite = gatewayLinkRewriter(base, request.gw.rootLayout === true ? undefined : request.gw.tenantRef ?? '')
  const length = Number(headers['content-length'] ?? Number.NaN)
  if (codec === undefined && length <= WHOLE_BODY_MAX) {
    sendWholeBody(request, reply, body, rewrite)
    return
  }
  const rewriter = new NextLinkTransform(rewrite)
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

/** The small-answer path: read the body (bounded by its declared length), rewrite, send with a length. */
function sendWholeBody (request: FastifyRequest, reply: FastifyReply, body: Readable, rewrite: LinkRewriter): void {
  const chunks: Buffer[] = []
  let size = 0
  body.on('data', (chunk: Buffer) => {
    size += chunk.length
    // Defender sent more than it declared: stop, as Node's own client would.
    if (size > WHOLE_BODY_MAX) body.destroy(new Error('upstream body longer than its content-length'))
    else chunks.push(chunk)
  })
  body.once('error', (err: Error) => {
    // Nothing has reached the caller yet, so the answer can still be a clean 502.
    if (reply.sent || reply.raw.destroyed) return
    request.gw.upstreamFailed = err.message
    for (const name of Object.keys(reply.getHeaders())) if (name !== 'x-request-id') reply.removeHeader(name)
    reply.send(new GatewayError('UpstreamUnavailable', `Defender (region ${request.gw.region?.name ?? 'unknown'}) broke off its answer; retry later.`))
  })
  body.once('end', () => {
    const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
    if (request.gw.route?.writes === true && whole.length <= KEEP) request.gw.writeOutcome = readOutcome(whole.toString('utf8'))
    const out = rewriteNextLinks(whole, rewrite)
    reply.header('content-length', String(out.length))
    reply.send(out)
  })
}
