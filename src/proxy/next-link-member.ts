import { MAX_LINK_BYTES } from './link-policy.js'

/**
 * Decides one nextLink string: a replacement link, `undefined` to keep it as it is, `null` to remove the
 * member from the answer.
 */
export type LinkRewriter = (link: string) => string | undefined | null

/** Why an answer was refused: the `reason` label of defender_gateway_upstream_answers_refused_total. */
export type HostileReason = 'next_link_value' | 'next_link_key' | 'next_link_whitespace' | 'content_encoding' | 'charset' | 'status'

const HOSTILE: Record<HostileReason, string> = {
  next_link_value: 'an @odata.nextLink that is not a string',
  next_link_key: 'an @odata.nextLink key spelled with escapes',
  next_link_whitespace: 'more whitespace around an @odata.nextLink member than the rewriter reads',
  content_encoding: 'a Content-Encoding other than one known coding',
  charset: 'a body in a charset other than UTF-8',
  status: 'a status code outside 200-599'
}

/**
 * An answer the rewriter will not pass on, because a client could read a nextLink from it that the
 * rewriter did not check: a nextLink that is an array or object (clients coerce those to a string), a key
 * spelled with escapes, whitespace beyond the bound the scanner reads through, a coding or charset the
 * scanner cannot read.
 */
export class HostileAnswer extends Error {
  readonly detail: string
  constructor (readonly reason: HostileReason) {
    super(`Defender answered with ${HOSTILE[reason]}`)
    this.detail = HOSTILE[reason]
    this.name = 'HostileAnswer'
  }
}

/** How much of a chunk a member used, and its bytes to emit once it is complete (undefined: not yet). */
export interface MemberStep { readonly used: number, readonly out?: Buffer }

type Phase = 'colon' | 'open' | 'string' | 'drain' | 'after'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const WS_MAX = 64
/** raw token bytes held for one link (escapes may double a link's length); a longer one is drained */
const RAW_MAX = 2 * MAX_LINK_BYTES + 2
const NULL = Buffer.from('null')
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/

/**
 * One nextLink member (any spelling the scanner matches) being read, from its key (or the comma before it) to the end of its
 * value: every byte is looked at once, and the bytes are held as slices until the link is decided.
 */
export class NextLinkMember {
  readonly #held: Buffer[]
  #heldBytes: number
  #phase: Phase = 'colon'
  #ws = 0
  #escape = false
  #tokenBytes = 0
  #valueAt = -1
  #valueEnd = -1
  #drained = ''
  #decision: string | undefined | null

  constructor (private readonly rewrite: LinkRewriter, private readonly start: { separator: boolean, opener: boolean, raw: Buffer }) {
    this.#held = [start.raw]
    this.#heldBytes = start.raw.length
  }

  feed (chunk: Buffer, final: boolean): MemberStep {
    let from = 0
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number
      const phase = this.#phase
      if (phase === 'string' || phase === 'drain') {
        if (this.#escape) this.#escape = false
        else if (c === BACKSLASH) this.#escape = true
        else if (c === QUOTE) {
          from = this.#close(chunk, from, i)
          if (this.#phase !== 'after') return { used: i + 1, out: this.#output(false) }
          continue
        }
        if (phase === 'string' && ++this.#tokenBytes > RAW_MAX) from = this.#drain(chunk, from, i)
        continue
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        if (++this.#ws <= WS_MAX) continue
        if (phase === 'after') return this.#end(chunk, from, i, false)
        // Still valid JSON, and a client reads the link after it: never pass the member through unread.
        throw new HostileAnswer('next_link_whitespace')
      }
      this.#ws = 0
      if (phase === 'colon') {
        if (c !== COLON) return this.#abandon(chunk, from, i)
        this.#phase = 'open'
      } else if (phase === 'open') {
        if (c === 0x5b || c === 0x7b) throw new HostileAnswer('next_link_value')
        if (c !== QUOTE) return this.#abandon(chunk, from, i)
        this.#valueAt = this.#heldBytes + i - from
        this.#tokenBytes = 1
        this.#phase = 'string'
      } else {
        return c === COMMA ? this.#end(chunk, from, i + 1, true) : this.#end(chunk, from, i, false)
      }
    }
    if (this.#phase !== 'drain') this.#hold(chunk.subarray(from))
    if (!final) return { used: chunk.length }
    // The answer ended inside the member: a value never closed is dropped; an unfinished key is kept.
    const out = this.#phase === 'colon' || this.#phase === 'open' ? Buffer.concat(this.#held) : Buffer.alloc(0)
    return { used: chunk.length, out }
  }

  #hold (slice: Buffer): void {
    if (slice.length === 0) return
    this.#held.push(slice)
    this.#heldBytes += slice.length
  }

  /** The value's closing quote at `i`: decide the link; a removal without a comma before it looks ahead. */
  #close (chunk: Buffer, from: number, i: number): number {
    if (this.#phase === 'drain') {
      this.#valueEnd = this.#valueAt
      this.#decision = this.rewrite(this.#drained)
    } else {
      this.#hold(chunk.subarray(from, i + 1))
      this.#valueEnd = this.#heldBytes
      this.#decision = this.rewrite(decode(Buffer.concat(this.#held).subarray(this.#valueAt, this.#valueEnd)))
    }
    this.#phase = this.#decision === null && !this.start.separator ? 'after' : 'string'
    this.#ws = 0
    return i + 1
  }

  /** A value too long to be a link: keep only what precedes it and read the rest without holding it. */
  #drain (chunk: Buffer, from: number, i: number): number {
    this.#hold(chunk.subarray(from, i + 1))
    const whole = Buffer.concat(this.#held)
    this.#drained = whole.toString('latin1', this.#valueAt + 1)
    this.#held.length = 0
    this.#heldBytes = 0
    this.#hold(whole.subarray(0, this.#valueAt))
    this.#phase = 'drain'
    return i + 1
  }

  /** Not a string member after all: everything held goes out as it came, from byte `i` on it is not ours. */
  #abandon (chunk: Buffer, from: number, i: number): MemberStep {
    this.#hold(chunk.subarray(from, i))
    return { used: i, out: Buffer.concat(this.#held) }
  }

  /** After a removed value: `,` follows (taken along), or the member was the object's only one. */
  #end (chunk: Buffer, from: number, i: number, comma: boolean): MemberStep {
    this.#hold(chunk.subarray(from, i))
    return { used: i, out: this.#output(comma || this.start.opener) }
  }

  #output (dropAll: boolean): Buffer {
    const whole = Buffer.concat(this.#held)
    const decision = this.#decision
    if (decision === undefined) return whole
    const before = whole.subarray(0, this.#valueAt)
    const after = whole.subarray(this.#valueEnd)
    if (decision !== null) return Buffer.concat([before, quote(decision), after])
    if (this.start.separator) return after
    // Removed with nothing to take along: the member becomes `"@odata.nextLink":null`, still valid JSON.
    return dropAll ? Buffer.alloc(0) : Buffer.concat([before, NULL, after])
  }
}

/** The link a JSON string token holds; an undecodable token is returned raw (and refused as malformed). */
function decode (token: Buffer): string {
  if (token.indexOf(BACKSLASH) === -1) return token.toString('utf8', 1, token.length - 1)
  try {
    const value: unknown = JSON.parse(token.toString('utf8'))
    if (typeof value === 'string') return value
  } catch {}
  return token.toString('utf8', 1, token.length - 1)
}

function quote (link: string): Buffer {
  return Buffer.from(NEEDS_ESCAPE.test(link) ? JSON.stringify(link) : `"${link}"`, 'utf8')
}
