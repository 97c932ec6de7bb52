import { HostileAnswer } from './next-link-member.js'

const ESCAPE = Buffer.from('\\u')
const QUOTE = 0x22
const BACKSLASH = 0x5c
const U = 0x75
const COLON = 0x3a
/** longest raw key that can decode to `@odata.deltaLink` (17 characters, each at most `\uXXXX`) */
const KEY_MAX = 17 * 6
const WS_MAX = 64
/** the spellings a client may read as a link to follow: `@odata.nextLink`/`deltaLink` and OData v4.0's forms without `@`, any ASCII case */
export const NEXT_LINK_NAME = /^@?odata\.(?:next|delta)link$/i

/**
 * Fails an answer whose JSON spells the `@odata.nextLink` key (or `odata.nextLink`, in any ASCII case)
 * with `\u` escapes: a client's parser reads
 * it as the nextLink, while the rewriter only recognises the plain spelling, so such a link would reach
 * the caller unchecked. Only `\u` escapes are looked at (a key of letters, `@` and `.` has no other),
 * each within a bounded window, and only a bounded tail is carried between chunks: linear work.
 */
export class EscapedKeyCheck {
  #tail: Buffer = Buffer.alloc(0)
  /** where the next search starts in tail + chunk: every earlier `\u` was decided already */
  #from = 0

  constructor (private readonly work: { bytes: number } = { bytes: 0 }) {}

  check (chunk: Buffer, final: boolean): void {
    if (this.#skipped(chunk)) return
    const buf = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk])
    let at = buf.indexOf(ESCAPE, this.#from)
    let pending = -1
    while (at !== -1) {
      const verdict = escapedNextLinkKey(buf, at, this.work)
      if (verdict === 'more' && !final) { pending = at; break }
      if (verdict === true) throw new HostileAnswer('next_link_key')
      at = buf.indexOf(ESCAPE, at + 2)
    }
    this.work.bytes += buf.length - this.#from
    // The next search starts at an undecided escape, or at the last byte (a `\` whose `u` comes next);
    // the tail keeps a key's length before it.
    const next = pending === -1 ? Math.max(0, buf.length - 1) : pending
    const keepFrom = Math.max(0, next - KEY_MAX)
    this.#tail = buf.subarray(keepFrom)
    this.#from = next - keepFrom
  }

  /**
   * The common case, without joining tail and chunk (a copy of every chunk): nothing pending in the tail,
   * no `\u` in the chunk nor across the seam. Only the chunk's last bytes become the tail.
   */
  #skipped (chunk: Buffer): boolean {
    const tail = this.#tail
    if (tail.length === 0 || chunk.length <= KEY_MAX || this.#from !== tail.length - 1) return false
    if (tail[tail.length - 1] === BACKSLASH && chunk[0] === U) return false
    if (chunk.indexOf(ESCAPE) !== -1) return false
    this.work.bytes += 1 + chunk.length
    this.#tail = chunk.subarray(chunk.length - 1 - KEY_MAX)
    this.#from = KEY_MAX
    return true
  }
}

/** Is the string around the `\u` at `at` a key that decodes to `@odata.nextLink`? ('more': need bytes) */
function escapedNextLinkKey (buf: Buffer, at: number, work: { bytes: number }): boolean | 'more' {
  let start = at - 1
  while (start >= 0 && at - start <= KEY_MAX && buf[start] !== QUOTE) start--
  if (start < 0 || buf[start] !== QUOTE || buf[start - 1] === BACKSLASH) return false
  let end = at + 2
  while (end < buf.length && end - start <= KEY_MAX + 1 && buf[end] !== QUOTE) end++
  work.bytes += end - start
  if (end >= buf.length) return 'more'
  if (buf[end] !== QUOTE || buf[end - 1] === BACKSLASH) return false
  let name: unknown
  try {
    name = JSON.parse(buf.toString('utf8', start, end + 1))
  } catch {
    return false
  }
  // The `i` flag without `u` folds ASCII letters only, as the clients' ordinal case-insensitive match does.
  if (typeof name !== 'string' || !NEXT_LINK_NAME.test(name)) return false
  let i = end + 1
  while (i < buf.length && i - end - 1 <= WS_MAX && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++
  work.bytes += i - end
  // Beyond the bound the colon is not looked for: still a key a client reads, so never passed on.
  if (i - end - 1 > WS_MAX) throw new HostileAnswer('next_link_whitespace')
  if (i >= buf.length) return 'more'
  return buf[i] === COLON
}
