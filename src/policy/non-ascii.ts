import type { RouteSpec } from './catalogue-data.js'
import type { RouteMatcher } from './match.js'

const NON_ASCII = /[\u0080-\uffff]/
// Marks, spaces and default-ignorable characters that a normalising server may drop before comparing.
const MARKS = /[\p{M}\p{White_Space}\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/gu

/** True when a decoded segment holds anything outside ASCII. */
export function hasNonAscii (segment: string): boolean {
  return NON_ASCII.test(segment)
}

/** The ways a server might fold a segment before comparing it: case mappings, NFKC, marks dropped. */
const FOLDS: ReadonlyArray<(s: string) => string> = [
  (s) => s.toLowerCase(),
  (s) => s.toUpperCase(),
  (s) => s.normalize('NFKC').toLowerCase(),
  (s) => s.normalize('NFKC').toUpperCase(),
  (s) => s.normalize('NFKD').replace(MARKS, '').toLowerCase(),
  (s) => s.normalize('NFKD').replace(MARKS, '').toUpperCase()
]

/**
 * Why a path with non-ASCII segments must not be forwarded, or undefined when it may. Literals match
 * ASCII only, so non-ASCII is fine only in a value position, and only when no Unicode folding of it
 * turns the path into another route (a value spelled like a sibling literal: `machines/ﬁndbyip(...)`).
 */
export function nonAsciiRejection (match: RouteMatcher, method: string, segments: readonly string[], route: RouteSpec | undefined): string | undefined {
  if (!segments.some(hasNonAscii)) return undefined
  if (route === undefined) return 'non-ASCII characters outside an id position'
  for (const fold of FOLDS) {
    const other = match(method, segments.map((s) => (hasNonAscii(s) ? fold(s) : s)))
    if (other !== undefined && other !== route) return `non-ASCII characters that read as route ${other.name} when folded`
  }
  return undefined
}
