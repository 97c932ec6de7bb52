import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

// RFC 9110 §7.6.1 hop-by-hop headers: never copied from Defender's answer.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings'
])

/**
 * The only caller headers that go to Defender: those its API reads. Anything else (method overrides,
 * X-Original-Method, X-Host, Via, Max-Forwards, Forwarded, X-Forwarded-*, cookies, credentials,
 * headers invented tomorrow) stays at the gateway, so a new trick needs no new blocklist entry.
 * Left out on purpose: Accept-Language (Defender's messages are English only), Prefer, If-Match and
 * If-None-Match (no Defender route documents OData preferences or ETags), Content-Length (recomputed
 * from the body the gateway buffered) and the caller's User-Agent, Authorization and X-Request-Id
 * (replaced by the gateway's own).
 */
const FORWARDED = new Set([
  // Content negotiation: JSON for entities, text for `$count`.
  'accept',
  // Compressed answers; filtered to the codings the link rewriter can decode (see acceptedCodings).
  'accept-encoding',
  // JSON bodies, and multipart/form-data with its boundary for the library upload.
  'content-type'
])

/** Codings the gateway can decode to rewrite `@odata.nextLink` (src/proxy/response.ts). */
const DECODABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity'])

const NEVER_DOWNSTREAM = new Set(['set-cookie', 'set-cookie2'])

/**
 * Graph reads two more caller headers: `client-request-id` (the caller's correlation id, echoed back) and
 * `Prefer` (`include-unknown-enum-members` on alerts, `return=representation` on updates), reference §5.4.
 */
export const GRAPH_FORWARDED: readonly string[] = ['client-request-id', 'prefer']

export interface UpstreamHeaderInput {
  /** further caller headers the target API reads (GRAPH_FORWARDED for Graph) */
  readonly extra?: readonly string[]
  readonly accessToken: string
  readonly requestId: string
  readonly userAgent: string
}

/**
 * Headers for the request to Defender: a fresh object with the allowlisted caller headers, the tenant
 * token, our User-Agent and request id. Content-Length comes from the buffered body (undici sets it).
 */
export function upstreamRequestHeaders (incoming: IncomingHttpHeaders, input: UpstreamHeaderInput): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const name of FORWARDED) {
    const value = incoming[name]
    if (typeof value === 'string') out[name] = value
  }
  for (const name of input.extra ?? []) {
    const value = incoming[name]
    if (typeof value === 'string') out[name] = value
  }
  if (typeof out['accept-encoding'] === 'string') {
    const codings = acceptedCodings(out['accept-encoding'])
    if (codings === '') delete out['accept-encoding']
    else out['accept-encoding'] = codings
  }
  out.authorization = `Bearer ${input.accessToken}`
  out['user-agent'] = input.userAgent
  out['x-request-id'] = input.requestId
  return out
}

/** The caller's Accept-Encoding without codings the rewriter cannot decode (Defender would use them). */
export function acceptedCodings (value: string): string {
  return value.split(',')
    .map((part) => part.trim())
    .filter((part) => DECODABLE.has(part.split(';')[0]!.trim().toLowerCase()))
    .join(', ')
}

/** Headers for the caller: Defender's answer minus hop-by-hop headers and cookies, plus our request id. */
export function downstreamResponseHeaders (incoming: Record<string, unknown>, requestId: string): Record<string, unknown> {
  const named = connectionNamed(incoming.connection)
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(incoming)) {
    const lower = name.toLowerCase()
    if (value === undefined || HOP_BY_HOP.has(lower) || NEVER_DOWNSTREAM.has(lower) || named.has(lower)) continue
    out[name] = value
  }
  out['x-request-id'] = requestId
  return out
}

const NONE: ReadonlySet<string> = new Set()

function connectionNamed (value: unknown): ReadonlySet<string> {
  if (typeof value !== 'string' || value === '') return NONE
  return new Set(value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))
}
