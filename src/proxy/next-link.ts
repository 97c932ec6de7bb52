import { reclaimAfter } from './reclaim.js'
import { Transform, type TransformCallback } from 'node:stream'
import { EscapedKeyCheck } from './escaped-key.js'
import { HostileAnswer, NextLinkMember, type LinkRewriter, type MemberStep } from './next-link-member.js'

export { HostileAnswer, type LinkRewriter } from './next-link-member.js'

/** Bytes the scanner looked at, for tests that prove the work stays linear in the input. */
export interface ScanWork { bytes: number }

/**
 * The ends of every link key, lower-cased: `"@odata.nextLink"`, `"@odata.deltaLink"` (a delta query's
 * next round, which a client follows just the same) and OData v4.0's forms without `@`, in any ASCII
 * case (PowerShell and Newtonsoft match property names case-insensitively). The scanner finds each `.`
 * with a native search and compares the bytes around it, ASCII case folded, in place: no copy of the
 * input is made per chunk (a lower-cased string per chunk was most of the gateway's heap churn on big
 * answers). It then checks the `"` or `"@` before.
 */
const ODATA = Buffer.from('odata')
const TAILS = [Buffer.from('nextlink"'), Buffer.from('deltalink"')]
const DOT = 0x2e
/** shared, so that resetting the carry per chunk allocates nothing */
const EMPTY = Buffer.alloc(0)
/** the longest key, `"@odata.deltaLink"` */
const KEY_MAX = 'odata.deltalink"'.length + 2
const QUOTE = 0x22
const AT = 0x40
/** whitespace looked through before a member; beyond it the comma before it is not taken along */
const WS_MAX = 64
/** chunk bytes joined to the carry to look for a key across the seam: a key's length after the whitespace a member may have */
const SEAM = WS_MAX + KEY_MAX + 2
const COMMA = 0x2c
const OPEN_BRACE = 0x7b

/**
 * Finds every nextLink string member (`"@odata.nextLink"` or `"odata.nextLink"`, any ASCII case) in JSON
 * that arrives in pieces and hands out the bytes to emit, with the value rewritten or the whole member
 * removed. Each input byte is looked at a bounded number of times whatever the chunking: only a short tail
 * (a split key, a separator) is carried between chunks, and a member being read is held as a list of
 * slices, never concatenated again per chunk. In valid JSON the key cannot occur inside another string:
 * there its quotes would be escaped. A body that starts like UTF-16 or UTF-32 (a BOM, or a NUL in its
 * first two bytes, as JSON text starts with an ASCII character) is refused: clients detect those
 * encodings, and the scanner reads only UTF-8.
 */
export class NextLinkScanner {
  #carry: Buffer = EMPTY
  #member: NextLinkMember | undefined
  readonly #escaped: EscapedKeyCheck
  /** the body's first two bytes, for the UTF-16/32 sniff; -1 until seen */
  #head = [-1, -1]
  #seen = 0
  constructor (private readonly rewrite: LinkRewriter, private readonly work: ScanWork = { bytes: 0 }) {
    this.#escaped = new EscapedKeyCheck(work)
  }

  write (chunk: Buffer, emit: (b: Buffer) => void, final: boolean): void {
    if (this.#seen < 2) this.#sniff(chunk)
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

  #sniff (chunk: Buffer): void {
    for (let i = 0; i < chunk.length && this.#seen < 2; i++) this.#head[this.#seen++] = chunk[i] as number
    const [a, b] = this.#head
    if (a === 0 || b === 0 || (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff)) throw new HostileAnswer('charset')
  }

  /** Emits what a finished member gives; false while the member still needs more input. */
  #finish (step: MemberStep, emit: (b: Buffer) => void): boolean {
    if (step.out === undefined) return false
    if (step.out.length > 0) emit(step.out)
    this.#member = undefined
    return true
  }

  #search (chunk: Buffer, emit: (b: Buffer) => void, final: boolean): void {
    const carry = this.#carry
    let buf = chunk
    let from = 0
    if (carry.length > 0 && (chunk.length <= SEAM || this.#keyAtSeam(carry, chunk))) {
      buf = Buffer.concat([carry, chunk])
      // The carry was searched already, except for a key that may begin in its last bytes.
      from = Math.max(0, carry.length - (KEY_MAX - 1))
    } else if (carry.length > 0) {
      // No key at the seam: the carry goes out as it is, and the chunk is searched without a copy of it.
      emit(carry)
    }
    /** bytes before `pos` are emitted or held by a member */
    let pos = 0
    this.#carry = EMPTY
    for (;;) {
      const key = findKey(buf, from, pos)
      this.work.bytes += (key === undefined ? buf.length : key.end) - from
      if (key === undefined) {
        // Keep a tail that could start a split key, or a separator a removal would take with it.
        const keep = final ? 0 : Math.min(buf.length - pos, carryLength(buf, this.work))
        if (buf.length - keep > pos) emit(buf.subarray(pos, buf.length - keep))
        this.#carry = buf.subarray(buf.length - keep)
        return
      }
      const { start, separator, opener } = memberStart(buf, key.at, pos, this.work)
      if (start > pos) emit(buf.subarray(pos, start))
      const member = new NextLinkMember(this.rewrite, { separator, opener, raw: buf.subarray(start, key.end) })
      const after = buf.subarray(key.end)
      const step = member.feed(after, final)
      this.work.bytes += step.used
      if (step.out === undefined) {
        this.#member = member
        return
      }
      if (step.out.length > 0) emit(step.out)
      pos = key.end + step.used
      from = pos
    }
  }

  /** Does a key end within the carry and the chunk's first bytes (where a member could take the carry along)? */
  #keyAtSeam (carry: Buffer, chunk: Buffer): boolean {
    const seam = Buffer.concat([carry, chunk.subarray(0, SEAM)])
    this.work.bytes += seam.length
    return findKey(seam, Math.max(0, carry.length - (KEY_MAX - 1)), 0) !== undefined
  }
}

/** The next link key at or after `from` that begins at or after `pos`: its opening quote and its end. */
function findKey (buf: Buffer, from: number, pos: number): { at: number, end: number } | undefined {
  for (let dot = buf.indexOf(DOT, from + ODATA.length); dot !== -1; dot = buf.indexOf(DOT, dot + 1)) {
    const end = keyTailEnd(buf, dot)
    if (end === -1) continue
    const p = dot - ODATA.length
    if (p - 1 >= pos && buf[p - 1] === QUOTE) return { at: p - 1, end }
    if (p - 2 >= pos && buf[p - 1] === AT && buf[p - 2] === QUOTE) return { at: p - 2, end }
  }
  return undefined
}

/** The end of `odata.nextlink"` or `odata.deltalink"` (ASCII case folded) around the `.` at `dot`; -1 if none. */
function keyTailEnd (buf: Buffer, dot: number): number {
  if (!equalsFolded(buf, dot - ODATA.length, ODATA)) return -1
  for (const tail of TAILS) if (equalsFolded(buf, dot + 1, tail)) return dot + 1 + tail.length
  return -1
}

/** Do the bytes at `at` spell `word` (lower case) with ASCII letters in any case? */
function equalsFolded (buf: Buffer, at: number, word: Buffer): boolean {
  if (at < 0 || at + word.length > buf.length) return false
  for (let i = 0; i < word.length; i++) {
    const c = buf[at + i] as number
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== word[i]) return false
  }
  return true
}

/** Where the held member begins: at a preceding comma (so a removal can take it along) or at the key. */
function memberStart (buf: Buffer, at: number, pos: number, work: ScanWork): { start: number, separator: boolean, opener: boolean } {
  let i = at - 1
  while (i >= pos && at - i <= WS_MAX && isSpace(buf[i] as number)) i--
  work.bytes += at - i
  if (i >= pos && buf[i] === COMMA) return { start: i, separator: true, opener: false }
  return { start: at, separator: false, opener: i >= pos && buf[i] === OPEN_BRACE }
}

/** What to carry into the next chunk: a split key's first bytes and the `,` or `{` before them. */
function carryLength (buf: Buffer, work: ScanWork): number {
  const split = Math.min(buf.length, KEY_MAX - 1)
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

/** Streams JSON through, rewriting or removing the string value of every nextLink member. */
export class NextLinkTransform extends Transform {
  readonly #scanner: NextLinkScanner
  /** a write's output, pushed only once the write is accepted: a chunk that fails the answer sends nothing of itself */
  readonly #pending: Buffer[] = []
  readonly #emit = (b: Buffer): void => { this.#pending.push(b) }

  constructor (rewrite: LinkRewriter, work?: ScanWork) {
    super()
    this.#scanner = new NextLinkScanner(rewrite, work)
  }

  #release (): void {
    for (const b of this.#pending) this.push(b)
    this.#pending.length = 0
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.#scanner.write(chunk, this.#emit, false)
    } catch (err) {
      this.#pending.length = 0
      done(err as Error)
      return
    }
    this.#release()
    reclaimAfter(chunk.length)
    done()
  }

  override _flush (done: TransformCallback): void {
    try {
      this.#scanner.write(EMPTY, this.#emit, true)
    } catch (err) {
      this.#pending.length = 0
      done(err as Error)
      return
    }
    this.#release()
    done()
  }
}

/** The same rewrite on a whole body in memory; returns `body` itself when it holds no nextLink. */
export function rewriteNextLinks (body: Buffer, rewrite: LinkRewriter): Buffer {
  const parts: Buffer[] = []
  new NextLinkScanner(rewrite).write(body, (b) => parts.push(b), true)
  return parts.length === 1 && parts[0]!.length === body.length ? body : Buffer.concat(parts)
}
