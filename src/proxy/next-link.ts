import { Transform, type TransformCallback } from 'node:stream'

/** Rewrites one `@odata.nextLink` value, or returns undefined to leave it alone. */
export type LinkRewriter = (link: string) => string | undefined

const KEY = Buffer.from('"@odata.nextLink"')
const QUOTE = 0x22
const BACKSLASH = 0x5c
/** characters a JSON string cannot hold as they are */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/
/** a nextLink longer than this is passed through untouched rather than buffered */
const MAX_VALUE = 64 * 1024

// Hosts that serve downloads with their own SAS signature: never pointed at the gateway.
const DOWNLOAD_HOST = /(^|\.)blob\.core\.windows\.net$|^userrequests-[a-z0-9-]+\.securitycenter\.windows\.com$/i

/**
 * A rewriter that points Defender's paging links back at the gateway, keeping the link's path and query
 * byte for byte. Only absolute http(s) URLs under `/api` are rewritten, whatever their host (Defender
 * builds them from its own view of the request), except download hosts.
 */
export function gatewayLinkRewriter (gatewayBase: string, tenantRef: string | undefined): LinkRewriter {
  // undefined: the caller used Defender's own layout (`/api/...` with a gateway token)
  const base = gatewayBase.replace(/\/+$/, '')
  const prefix = tenantRef === undefined ? base : `${base}/tenants/${tenantRef}`
  return function rewriteLink (link) {
    const m = /^https?:\/\/([^/?#\s"]+)(\/[^\s]*)$/i.exec(link)
    if (m === null) return undefined
    const host = (m[1] as string).replace(/:\d+$/, '')
    const pathAndQuery = m[2] as string
    if (DOWNLOAD_HOST.test(host) || !/^\/api(\/|\?|$)/i.test(pathAndQuery)) return undefined
    return prefix + pathAndQuery
  }
}

/**
 * Finds every `"@odata.nextLink"` string member in JSON that arrives in pieces and hands out the bytes to
 * emit, value rewritten. Works on any chunking (a key or value may be split across chunks) and holds
 * back at most one key plus one value. In valid JSON the key cannot occur inside another string: there
 * its quotes would be escaped.
 */
class NextLinkScanner {
  #pending: Buffer = Buffer.alloc(0)
  constructor (private readonly rewrite: LinkRewriter) {}

  write (chunk: Buffer, emit: (b: Buffer) => void, final: boolean): void {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    this.#pending = Buffer.alloc(0)
    for (;;) {
      const at = buf.indexOf(KEY)
      if (at === -1) {
        // Keep a tail that could be the start of a split key.
        const keep = final ? 0 : Math.min(buf.length, KEY.length - 1)
        if (buf.length - keep > 0) emit(buf.subarray(0, buf.length - keep))
        this.#pending = buf.subarray(buf.length - keep)
        return
      }
      const value = findStringValue(buf, at + KEY.length)
      if (value === 'incomplete' && !final && buf.length - at < KEY.length + MAX_VALUE) {
        if (at > 0) emit(buf.subarray(0, at))
        this.#pending = buf.subarray(at)
        return
      }
      if (value === 'incomplete' || value === 'absent') {
        // Not a string member (or too long): emit through the key and keep scanning after it.
        emit(buf.subarray(0, at + KEY.length))
        buf = buf.subarray(at + KEY.length)
        continue
      }
      emit(buf.subarray(0, value.start))
      emit(this.#replacement(buf.subarray(value.start, value.end)))
      buf = buf.subarray(value.end)
    }
  }

  /** The JSON string token (quotes included) to emit in place of `token`. */
  #replacement (token: Buffer): Buffer {
    // Defender's links hold no escapes: read and write them as they are, without JSON.parse/stringify.
    if (token.indexOf(BACKSLASH) === -1) {
      const rewritten = this.rewrite(token.toString('utf8', 1, token.length - 1))
      if (rewritten === undefined) return token
      if (!NEEDS_ESCAPE.test(rewritten)) return Buffer.from(`"${rewritten}"`, 'utf8')
    }
    let link: unknown
    try { link = JSON.parse(token.toString('utf8')) } catch { return token }
    const rewritten = typeof link === 'string' ? this.rewrite(link) : undefined
    return rewritten === undefined ? token : Buffer.from(JSON.stringify(rewritten), 'utf8')
  }
}

/** Streams JSON through, replacing the string value of every `"@odata.nextLink"` member. */
export class NextLinkTransform extends Transform {
  readonly #scanner: NextLinkScanner
  readonly #emit = (b: Buffer): void => { this.push(b) }

  constructor (rewrite: LinkRewriter) {
    super()
    this.#scanner = new NextLinkScanner(rewrite)
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#scanner.write(chunk, this.#emit, false)
    done()
  }

  override _flush (done: TransformCallback): void {
    this.#scanner.write(Buffer.alloc(0), this.#emit, true)
    done()
  }
}

/** The same rewrite on a whole body in memory; returns `body` itself when it holds no nextLink. */
export function rewriteNextLinks (body: Buffer, rewrite: LinkRewriter): Buffer {
  if (body.indexOf(KEY) === -1) return body
  const parts: Buffer[] = []
  new NextLinkScanner(rewrite).write(body, (b) => parts.push(b), true)
  return Buffer.concat(parts)
}

/** Finds `<ws>:<ws>"...."` after a key: the byte range of the string token, including its quotes. */
function findStringValue (buf: Buffer, from: number): { start: number, end: number } | 'incomplete' | 'absent' {
  let i = skipSpace(buf, from)
  if (i >= buf.length) return 'incomplete'
  if (buf[i] !== 0x3a) return 'absent'
  i = skipSpace(buf, i + 1)
  if (i >= buf.length) return 'incomplete'
  if (buf[i] !== QUOTE) return 'absent'
  const start = i
  for (i = start + 1; i < buf.length; i++) {
    if (i - start > MAX_VALUE) return 'absent'
    const c = buf[i]
    if (c === BACKSLASH) { i++; continue }
    if (c === QUOTE) return { start, end: i + 1 }
  }
  return 'incomplete'
}

function skipSpace (buf: Buffer, i: number): number {
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++
  return i
}
