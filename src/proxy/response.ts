import { pipeline, Readable, type Transform } from 'node:stream'
import { createBrotliCompress, createBrotliDecompress, createDeflate, createGzip, createGunzip, createInflate, constants as zlib } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'
import type { RewriteMetrics } from '../observability/rewrite-metrics.js'
import { HostileAnswer, NextLinkTransform, rewriteNextLinks, type LinkRewriter } from './next-link.js'
import type { HostileReason } from './next-link-member.js'
import { decideLink } from './link-policy.js'
import { linkBase, type LinkBaseOptions } from './link-base.js'
import { InflateGuard, InflateRefused, type InflateLimits } from './inflate-guard.js'
import { AuditTap, KEEP, readOutcome } from './audit-tap.js'
import { upstreamName } from './upstream-name.js'
import type { UpstreamAnswer } from './upstream-answer.js'

/** What the answer path needs from config, built once: link hosts and base, inflate limits, metrics. */
export interface ResponseOptions {
  /** `host:port` pairs whose nextLinks are Defender's own (knownLinkHosts) */
  readonly linkHosts: ReadonlySet<string>
  readonly linkBase: LinkBaseOptions
  readonly inflate: InflateLimits
  readonly metrics: RewriteMetrics
  /** Graph answers (`gw.api === 'graph'`): Graph's hosts, and the path its links must stay under */
  readonly graph: { readonly linkHosts: ReadonlySet<string>, readonly apiPath: RegExp }
}

type Codec = { decode: () => Transform, encode: () => Transform }

// Re-compression at a fast level: the body was compressed upstream for the caller's sake, and the
// gateway must not spend more CPU on it than the rewrite itself.
const CODECS: Record<string, Codec> = {
  gzip: { decode: createGunzip, encode: () => createGzip({ level: 4 }) },
  'x-gzip': { decode: createGunzip, encode: () => createGzip({ level: 4 }) },
  deflate: { decode: createInflate, encode: () => createDeflate({ level: 4 }) },
  br: { decode: createBrotliDecompress, encode: () => createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } }) }
}

/** the charset parameter of a Content-Type, quoted or not */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i
/** charsets whose bytes the scanner reads as they are (every us-ascii text is UTF-8) */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii'])
/**
 * Uncompressed JSON answers of a declared length up to this size are read whole, rewritten in one pass
 * and sent with a length: most Defender answers are a page of this size, and a chain of stream stages
 * costs more CPU per request than the rewrite itself. Bounded, so memory per request stays small.
 */
const WHOLE_BODY_MAX = 256 * 1024
/** Compressed output held back before the caller's answer starts (see sendOnceCommitted). */
const HOLD_MAX = 256 * 1024

/**
 * Sends Defender's answer to the caller as a stream; every body passes through the nextLink rewriter
 * (decompressed, within the inflate limits, and compressed again around it when Defender compressed them).
 *
 * Every body, whatever its Content-Type: clients parse an answer as JSON without looking at its type
 * (Python's `response.json()`, PowerShell's Invoke-RestMethod on text), and the Defender API serves no
 * binary content through the gateway (downloads come from storage hosts by their own links). The scanner
 * changes only bytes of a nextLink member, so a body without one passes byte for byte. An answer the
 * scanner cannot read is refused, never passed on unread: a Content-Encoding other than identity or one
 * known coding (stacked or unknown codings), or a charset other than UTF-8 (declared, or sniffed from the
 * first bytes by the scanner).
 */
export function sendUpstreamBody (request: FastifyRequest, reply: FastifyReply, answer: UpstreamAnswer, options: ResponseOptions): void {
  if (request.method === 'HEAD') {
    reply.send(answer.stream())
    return
  }
  const headers = answer.headers
  const type = String(headers['content-type'] ?? '')
  const encoding = String(headers['content-encoding'] ?? '').trim().toLowerCase()
  const codec = CODECS[encoding]
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase()
  const unreadable = codec === undefined && encoding !== 'identity' && encoding !== ''
    ? 'content_encoding'
    : charset !== undefined && !UTF8_CHARSETS.has(charset) ? 'charset' : undefined
  if (unreadable !== undefined) {
    refuseHostileAnswer(request, reply, answer, unreadable, options.metrics)
    return
  }
  const rewrite = linkRewriter(request, options)
  const length = Number(headers['content-length'] ?? Number.NaN)
  if (codec === undefined && length <= WHOLE_BODY_MAX) {
    sendWholeBody(request, reply, answer, rewrite, options.metrics)
    return
  }
  const body = answer.stream()
  const inner: Transform[] = [new NextLinkTransform(rewrite)]
  if (request.gw.route?.writes === true) {
    inner.push(new AuditTap((outcome) => { request.gw.writeOutcome = outcome }))
  }
  reply.removeHeader('content-length')
  if (codec === undefined) {
    // Committed at the first byte for the caller: an answer refused before it (a body that starts like
    // UTF-16, say) still becomes a clean 502, and the rest streams as it comes.
    const sending = { committed: false }
    const out = pipeline([body, ...inner] as [Readable, ...Transform[]], streamFailed(request, reply, options.metrics, sending)) as unknown as Readable
    sendOnceCommitted(reply, out, sending, 1)
    return
  }
  const decoder = codec.decode() as Transform & { readonly bytesWritten: number }
  const guard = new InflateGuard(options.inflate, decoder, (inflated) => options.metrics.inflatedBytes.inc(inflated))
  const stages = [body, decoder, guard, ...inner, codec.encode()]
  const sending = { committed: false }
  // pipeline destroys every stage when one fails or the caller goes away, which aborts the upstream.
  const out = pipeline(stages as [Readable, ...Transform[]], streamFailed(request, reply, options.metrics, sending)) as unknown as Readable
  sendOnceCommitted(reply, out, sending)
}

/** The nextLink decision for this request's answer; removals are logged (host and path, never the query). */
function linkRewriter (request: FastifyRequest, options: ResponseOptions): LinkRewriter {
  let prefix: string | undefined
  return function rewriteLink (link) {
    prefix ??= `${linkBase(options.linkBase, { headers: request.headers, localAddress: request.socket.localAddress, localPort: request.socket.localPort })}${layoutPath(request)}`
    const decision = request.gw.api === 'graph'
      ? decideLink(link, options.graph.linkHosts, prefix, options.graph.apiPath)
      : decideLink(link, options.linkHosts, prefix)
    if (decision.action === 'rewrite') return decision.link
    if (decision.action === 'keep') return undefined
    options.metrics.linksRemoved.inc({ reason: decision.reason })
    request.log.warn({ reason: decision.reason, linkHost: decision.host, linkPath: decision.path, linkBytes: link.length },
      `removed an @odata.nextLink that does not point at a known ${request.gw.api === 'graph' ? 'Microsoft Graph' : 'Defender'} host`)
    return null
  }
}

/**
 * Holds a compressed answer back until `holdMax` bytes of it are ready for the caller (or all of it), so
 * that a decompression bomb, whose output stays small while it inflates, is refused with a clean 502
 * instead of a cut-off body. A small answer is sent whole, with its length.
 */
function sendOnceCommitted (reply: FastifyReply, out: Readable, sending: { committed: boolean }, holdMax = HOLD_MAX): void {
  const early: Buffer[] = []
  let held = 0
  const abandon = (): void => { if (!sending.committed) out.destroy() }
  const commit = (whole: boolean): void => {
    sending.committed = true
    out.off('data', collect)
    out.off('end', ended)
    reply.raw.off('close', abandon)
    if (whole) {
      reply.send(Buffer.concat(early, held))
      return
    }
    // The held chunks go back in front of the rest, and the stream itself is sent: no wrapping stage
    // (an async generator cost several promises and objects per chunk on big answers).
    out.pause()
    for (let i = early.length - 1; i >= 0; i--) out.unshift(early[i])
    early.length = 0
    reply.send(out)
  }
  const collect = (chunk: Buffer): void => {
    early.push(chunk)
    held += chunk.length
    if (held >= holdMax) commit(false)
  }
  const ended = (): void => { commit(true) }
  out.on('data', collect)
  out.once('end', ended)
  reply.raw.once('close', abandon)
}

/** A stream that failed: counted when the gateway refused it; a 502 while nothing was sent yet. */
function streamFailed (request: FastifyRequest, reply: FastifyReply, metrics: RewriteMetrics, sending: { committed: boolean }) {
  return function onStreamEnd (err: NodeJS.ErrnoException | null | undefined): void {
    if (err === undefined || err === null) return
    if (err instanceof InflateRefused) metrics.answersRefused.inc({ reason: 'inflate_limit' })
    else if (err instanceof HostileAnswer) metrics.answersRefused.inc({ reason: err.reason })
    if (!sending.committed) refuseAnswer(request, reply, err)
    else if (!reply.raw.destroyed) request.log.warn({ err: err.message }, 'response stream failed')
  }
}

/** An answer refused on its headers alone: the call is ended unread, counted, and the caller gets a clean 502. */
export function refuseHostileAnswer (request: FastifyRequest, reply: FastifyReply, answer: UpstreamAnswer, reason: HostileReason, metrics: RewriteMetrics): void {
  answer.abort()
  metrics.answersRefused.inc({ reason })
  refuseAnswer(request, reply, new HostileAnswer(reason))
}

/** Nothing has reached the caller yet, so Defender's unusable answer can still become a clean 502. */
function refuseAnswer (request: FastifyRequest, reply: FastifyReply, err: Error): void {
  if (reply.sent || reply.raw.destroyed) return
  request.gw.upstreamFailed = err.message
  if (err instanceof InflateRefused || err instanceof HostileAnswer) request.log.warn({ err: err.message }, 'refused Defender\'s answer')
  for (const name of Object.keys(reply.getHeaders())) if (name !== 'x-request-id') reply.removeHeader(name)
  const region = request.gw.region?.name ?? 'unknown'
  reply.send(new GatewayError('UpstreamUnavailable', err instanceof InflateRefused || err instanceof HostileAnswer
    ? `${upstreamName(request.gw.api, region)} sent an answer the gateway does not pass on (${err instanceof InflateRefused ? 'it inflates beyond the limits' : err.detail}); retry later.`
    : `${upstreamName(request.gw.api, region)} broke off its answer; retry later.`))
}

/** The small-answer path: read the body (bounded by its declared length), rewrite, send with a length. */
function sendWholeBody (request: FastifyRequest, reply: FastifyReply, answer: UpstreamAnswer, rewrite: LinkRewriter, metrics: RewriteMetrics): void {
  // More than the bound means more than Defender declared: the call is stopped, as Node's own client would.
  answer.collect(WHOLE_BODY_MAX, (err, whole) => {
    if (err !== null) {
      refuseAnswer(request, reply, err)
      return
    }
    if (request.gw.route?.writes === true && whole.length <= KEEP) request.gw.writeOutcome = readOutcome(whole.toString('utf8'))
    let out: Buffer
    try {
      out = rewriteNextLinks(whole, rewrite)
    } catch (err) {
      if (err instanceof HostileAnswer) metrics.answersRefused.inc({ reason: err.reason })
      refuseAnswer(request, reply, err as Error)
      return
    }
    reply.header('content-length', String(out.length))
    reply.send(out)
  })
}

/** the link's path prefix in the layout the caller used: the API's own at the root (gateway token), `/tenants/{ref}` or `/tenants/{ref}/graph` */
function layoutPath (request: FastifyRequest): string {
  if (request.gw.rootLayout === true) return ''
  return `/tenants/${request.gw.tenantRef ?? ''}${request.gw.api === 'graph' ? '/graph' : ''}`
}
