import type { Dispatcher } from 'undici'
import { upstreamRequestHeaders } from '../proxy/headers.js'
import type { Region } from '../regions/select.js'

/** One whole answer from Defender, read up to a bound. */
export interface WholeAnswer {
  readonly status: number
  readonly headers: Record<string, unknown>
  /** undefined when the body was larger than the bound (the rest was not read) */
  readonly body: Buffer | undefined
}

export interface FetchOptions {
  readonly agent: Dispatcher
  readonly userAgent: string
  readonly accessToken: string
  readonly requestId: string
  /** larger bodies are cut off and reported as undefined */
  readonly maxBytes: number
  readonly signal: AbortSignal
}

/**
 * GETs `link` (path and query, kept byte for byte) from a region with the tenant's token and reads the
 * answer whole, up to `maxBytes`. Uncompressed only (`Accept-Encoding: identity`): a fleet page is
 * parsed, and inflating answers here would need the proxy's inflation guards a second time.
 */
export async function fetchWhole (region: Region, link: string, options: FetchOptions): Promise<WholeAnswer> {
  const url = new URL(region.url)
  const base = url.pathname.replace(/\/+$/, '')
  const headers = upstreamRequestHeaders({ accept: 'application/json', 'accept-encoding': 'identity' }, {
    accessToken: options.accessToken,
    requestId: options.requestId,
    userAgent: options.userAgent
  }) as Record<string, string>
  const res = await options.agent.request({ origin: url.origin, path: `${base}${link}`, method: 'GET', headers, signal: options.signal })
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > options.maxBytes) {
      res.body.destroy()
      return { status: res.statusCode, headers: res.headers, body: undefined }
    }
    chunks.push(chunk)
  }
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }
}

/** Defender's error code and message from an error body, if it has that shape; bounded. */
export function defenderError (body: Buffer | undefined): { code: string, message: string } | undefined {
  if (body === undefined || body.length > 64 * 1024) return undefined
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown, message?: unknown } }
    const { code, message } = parsed.error ?? {}
    if (typeof code !== 'string' || typeof message !== 'string') return undefined
    return { code: code.slice(0, 100), message: message.slice(0, 500) }
  } catch {
    return undefined
  }
}

/** An identity (or absent) Content-Encoding: the only kind a fleet read parses. */
export function plainEncoding (headers: Record<string, unknown>): boolean {
  const coding = headers['content-encoding']
  return coding === undefined || (typeof coding === 'string' && coding.trim().toLowerCase() === 'identity')
}

/** Deepest nesting a fleet read accepts in a tenant's answer (Defender's entities nest a few levels). */
export const MAX_JSON_DEPTH = 64

/**
 * Whether JSON text nests no deeper than `max` arrays and objects (strings skipped). Checked before a
 * tenant's answer is parsed, because serialising a deeply nested value again would overflow the stack.
 */
export function jsonDepthWithin (text: Buffer, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped byte
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) return false } else if (c === 0x5d || c === 0x7d) depth--
  }
  return true
}
