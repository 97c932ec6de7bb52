import type { RouteSpec } from './catalogue-data.js'

/** Finds the catalogue route for a method and decoded path segments (after '/api'). */
export type RouteMatcher = (method: string, segments: readonly string[]) => RouteSpec | undefined

type Part =
  | { kind: 'literal', value: string }
  | { kind: 'function', name: string }
  | { kind: 'variable' }

interface Compiled {
  readonly route: RouteSpec
  readonly parts: readonly Part[]
  /** literal > function > variable, segment by segment: the most specific template wins */
  readonly rank: string
}

const FUNCTION_TEMPLATE = /^([^{}()]+)\(\{[a-z]+\}\)$/i
const UPPER_ASCII = /[A-Z]+/g

/**
 * Lowercases A-Z only. Unicode folding (toLowerCase, localeCompare, NFKC) maps other characters onto
 * ASCII letters (Kelvin sign to k), so a literal could be authorised as one route and read upstream as another.
 */
export function asciiLower (text: string): string {
  return text.replace(UPPER_ASCII, (letters) => letters.toLowerCase())
}

function compile (route: RouteSpec): Compiled {
  const parts: Part[] = route.template.split('/').slice(2).map((segment): Part => {
    if (/^\{[a-zA-Z]+\}$/.test(segment)) return { kind: 'variable' }
    const fn = FUNCTION_TEMPLATE.exec(segment)
    if (fn !== null) return { kind: 'function', name: `${asciiLower(fn[1] as string)}(` }
    return { kind: 'literal', value: asciiLower(segment) }
  })
  const rank = parts.map((p) => (p.kind === 'literal' ? '3' : p.kind === 'function' ? '2' : '1')).join('')
  return { route, parts, rank }
}

function matches (parts: readonly Part[], segments: readonly string[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Part
    const segment = segments[i] as string
    if (segment === '') return false
    if (part.kind === 'variable') {
      // '$count', '$metadata'... are OData system segments, never an id.
      if (segment.startsWith('$')) return false
    } else if (part.kind === 'literal') {
      if (asciiLower(segment) !== part.value) return false
    } else if (part.kind === 'function') {
      const lower = asciiLower(segment)
      if (!lower.startsWith(part.name) || !lower.endsWith(')') || lower.length <= part.name.length) return false
    }
  }
  return true
}

/**
 * Compiles the catalogue once. Accepts the optional `v1.0` version segment and a trailing `$count`
 * on GET routes (same permission as the collection it counts).
 */
export function createMatcher (routes: readonly RouteSpec[]): RouteMatcher {
  const buckets = new Map<string, Compiled[]>()
  for (const route of routes) {
    const compiled = compile(route)
    const key = `${route.method} ${compiled.parts.length}`
    const bucket = buckets.get(key) ?? []
    bucket.push(compiled)
    bucket.sort((a, b) => (a.rank < b.rank ? 1 : a.rank > b.rank ? -1 : 0))
    buckets.set(key, bucket)
  }
  const find = (method: string, segments: readonly string[]): RouteSpec | undefined => {
    const bucket = buckets.get(`${method} ${segments.length}`)
    if (bucket === undefined) return undefined
    for (const candidate of bucket) {
      if (matches(candidate.parts, segments)) return candidate.route
    }
    return undefined
  }
  return function matchRoute (method, segments) {
    let rest = segments
    if (asciiLower(rest[0] ?? '') === 'v1.0') rest = rest.slice(1)
    const direct = find(method, rest)
    if (direct !== undefined) return direct
    if (method === 'GET' && rest.length > 1 && asciiLower(rest[rest.length - 1] ?? '') === '$count') {
      return find(method, rest.slice(0, -1))
    }
    return undefined
  }
}
