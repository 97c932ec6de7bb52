import { Transform, type TransformCallback } from 'node:stream'
import { EscapedKeyCheck } from './escaped-key.js'
import { NextLinkMember, type LinkRewriter, type MemberStep } from './next-link-member.js'

export { HostileAnswer, type LinkRewriter } from './next-link-member.js'

/** Bytes the scanner looked at, for tests that prove the work stays linear in the input. */
export interface ScanWork { bytes: number }

const KEY = Buffer.from('"@odata.nextLink"')
/** whitespace looked through before a member; beyond it the comma before it is not taken along */
const WS_MAX = 64
const COMMA = 0x2c
const OPEN_BRACE = 0x7b

/**
 * Finds every `"@odata.nextLink"` string member in JSON that arrives in pieces and hands out the bytes to
 * emit, with the value rewritten or the whole member removed. Each input byte is looked at a bounded
 * number of times whatever the chunking: only a short tail (a split key, a separator) is carried between
 * chunks, and a member being read is held as a list of slices, never concatenated again per chunk. In
 * valid JSON the key cannot occur inside another string: there its quotes would be escaped.
 */
export class NextLinkScanner {
  #carry: Buffer = Buffer.alloc(0)
  #member: NextLinkMember | undefined
  readonly #escaped: EscapedKeyCheck
  constructor (private readonly rewrite: LinkRewriter, private readonly work: ScanWork = { bytes: 0 }) {
    this.#escaped = new EscapedKeyCheck(work)
  }

  write (chunk: Buffer, emit: (b: Buffer) => void, final: boolean): void {
    this.#escaped.check(chunk, final)
    let rest = chunk
    if (this.#member !== undefined) {
      const step = this.#member.feed(chunk, final)
      this.work.bytes += step.used
      if (!this.#finish(step, emit)) return
      rest = chunk.subarray(step.used)
    }
    this.#search(rest, emit, final)
  }

  /** Emits what a finished member gives; false while the member still needs more input. */
  #finish (step: MemberStep, emit: (b: Buffer) => void): boolean {
    if (step.out === undefined) return false
    if (step.out.length > 0) emit(step.out)
    this.#member = undefined
    return true
  }

  #search (chunk: Buffer, emit: (b: Buffer) => void, final: boolean): void {
    let buf = this.#carry.length === 0 ? chunk : Buffer.concat([this.#carry, chunk])
    // The carry was searched already, except for a key that may begin in its last bytes.
    let from = Math.max(0, this.#carry.length - (KEY.length - 1))
    this.#carry = Buffer.alloc(0)
    for (;;) {
      const at = buf.indexOf(KEY, from)
      this.work.bytes += (at === -1 ? buf.length : at + KEY.length) - from
      from = 0
      if (at === -1) {
        // Keep a tail that could start a split key, or a separator a removal would take with it.
        const keep = final ? 0 : carryLength(buf, this.work)
        if (buf.length - keep > 0) emit(buf.subarray(0, buf.length - keep))
        this.#carry = buf.subarray(buf.length - keep)
        return
      }
      const { start, separator, opener } = memberStart(buf, at, this.work)
      if (start > 0) emit(buf.subarray(0, start))
      const member = new NextLinkMember(this.rewrite, { separator, opener, raw: buf.subarray(start, at + KEY.length) })
      const after = buf.subarray(at + KEY.length)
      const step = member.feed(after, final)
      this.work.bytes += step.used
      if (step.out === undefined) {
        this.#member = member
        return
      }
      if (step.out.length > 0) emit(step.out)
      buf = after.subarray(step.used)
    }
  }
}

/** Where the held member begins: at a preceding comma (so a removal can take it along) or at the key. */
function memberStart (buf: Buffer, at: number, work: ScanWork): { start: number, separator: boolean, opener: boolean } {
  let i = at - 1
  while (i >= 0 && at - i <= WS_MAX && isSpace(buf[i] as number)) i--
  work.bytes += at - i
  if (i >= 0 && buf[i] === COMMA) return { start: i, separator: true, opener: false }
  return { start: at, separator: false, opener: i >= 0 && buf[i] === OPEN_BRACE }
}

/** What to carry into the next chunk: a split key's first bytes and the `,` or `{` before them. */
function carryLength (buf: Buffer, work: ScanWork): number {
  const split = Math.min(buf.length, KEY.length - 1)
  return Math.max(structuralTail(buf, buf.length, work), split + structuralTail(buf, buf.length - split, work))
}

/** Length of a `,` or `{` plus whitespace ending at `end`: kept so a removal can take the comma along. */
function structuralTail (buf: Buffer, end: number, work: ScanWork): number {
  let i = end - 1
  while (i >= 0 && end - i <= WS_MAX && isSpace(buf[i] as number)) i--
  work.bytes += end - i
  return i >= 0 && (buf[i] === COMMA || buf[i] === OPEN_BRACE) ? end - i : 0
}

function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** Streams JSON through, rewriting or removing the string value of every `"@odata.nextLink"` member. */
export class NextLinkTransform extends Transform {
  readonly #scanner: NextLinkScanner
  readonly #emit = (b: Buffer): void => { this.push(b) }

  constructor (rewrite: LinkRewriter, work?: ScanWork) {
    super()
    this.#scanner = new NextLinkScanner(rewrite, work)
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.#scanner.write(chunk, this.#emit, false)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  }

  override _flush (done: TransformCallback): void {
    try {
      this.#scanner.write(Buffer.alloc(0), this.#emit, true)
    } catch (err) {
      done(err as Error)
      return
    }
    done()
  }
}

/** The same rewrite on a whole body in memory; returns `body` itself when it holds no nextLink. */
export function rewriteNextLinks (body: Buffer, rewrite: LinkRewriter): Buffer {
  if (body.indexOf(KEY) === -1 && body.indexOf('\\u') === -1) return body
  const parts: Buffer[] = []
  new NextLinkScanner(rewrite).write(body, (b) => parts.push(b), true)
  return Buffer.concat(parts)
}
