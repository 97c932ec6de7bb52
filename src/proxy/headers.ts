import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

// RFC 9110 §7.6.1 hop-by-hop headers, plus proxy credentials.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings'
])

// The caller's credentials and anything that could steer routing upstream.
const NEVER_UPSTREAM = new Set([
  'host', 'authorization', 'x-api-key', 'cookie', 'x-original-url', 'x-rewrite-url',
  'x-http-method-override', 'x-http-method', 'x-method-override', 'forwarded', 'expect', 'content-length'
])

const NEVER_DOWNSTREAM = new Set(['set-cookie', 'set-cookie2'])

export interface UpstreamHeaderInput {
  readonly accessToken: string
  readonly requestId: string
  readonly userAgent: string
  /** copy the caller's X-Forwarded-* only when a trusted proxy sits in front */
  readonly trustProxy: boolean
}

/**
 * Headers for the request to Defender: a fresh object with the tenant token, never the caller's
 * credentials, cookies or hop-by-hop headers (including those the Connection header names).
 */
export function upstreamRequestHeaders (incoming: IncomingHttpHeaders, input: UpstreamHeaderInput): OutgoingHttpHeaders {
  const named = connectionNamed(incoming.connection)
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_UPSTREAM.has(name) || named.has(name)) continue
    if (!input.trustProxy && name.startsWith('x-forwarded-')) continue
    out[name] = value
  }
  const length = incoming['content-length']
  if (length !== undefined && incoming['transfer-encoding'] === undefined) out['content-length'] = length
  out.authorization = `Bearer ${input.accessToken}`
  out['user-agent'] = input.userAgent
  out['x-request-id'] = input.requestId
  return out
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
