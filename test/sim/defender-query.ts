/** One query option as received, in order (name decoded, `+` and `%20` both meaning space). */
export interface QueryOption { name: string, value: string }

/** A parsed query string: options in order plus lookup by lower-cased name. */
export interface ParsedQuery { options: QueryOption[], get (name: string): string | undefined }

/** Thrown for an OData query the simulator (or Defender) rejects: becomes 400 ODataError / InvalidInput. */
export class QueryError extends Error {
  constructor (message: string, readonly code = 'ODataError') { super(message) }
}

function decode (s: string): string {
  const spaced = s.replace(/\+/g, ' ')
  try { return decodeURIComponent(spaced) } catch { return spaced }
}

/** Parses a raw query string itself, so `$top` and `%24top` are the same option. */
export function parseQuery (raw: string): ParsedQuery {
  const options: QueryOption[] = []
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decode(eq < 0 ? part : part.slice(0, eq))
    const value = eq < 0 ? '' : decode(part.slice(eq + 1))
    options.push({ name, value })
  }
  return {
    options,
    get: (name) => options.find(o => o.name.toLowerCase() === name.toLowerCase())?.value
  }
}

/** Re-encodes options into a query string, keeping `$` literal in option names. */
export function buildQuery (options: QueryOption[]): string {
  return options.map(o => `${encodeURIComponent(o.name).replace(/%24/g, '$')}=${encodeURIComponent(o.value)}`).join('&')
}

/** Reads an integer option within [min, max]; undefined when absent. */
export function intOption (q: ParsedQuery, name: string, min: number, max: number): number | undefined {
  const raw = q.get(name)
  if (raw === undefined || raw === '') return undefined
  if (!/^\d+$/.test(raw.trim())) throw new QueryError(`The value '${raw}' of ${name} is not a valid integer`)
  const n = Number(raw)
  if (n < min) throw new QueryError(`The value of ${name} must be at least ${min}`)
  return Math.min(n, max)
}

type Row = Record<string, unknown>
type Predicate = (row: Row) => boolean

const CLAUSE = /^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$/i

function unquote (v: string): string {
  const m = /^'(.*)'$/.exec(v) ?? /^"(.*)"$/.exec(v)
  return m !== null ? m[1]!.replace(/''/g, "'") : v
}

function compare (a: number | string, b: number | string, op: string): boolean {
  switch (op) {
    case 'eq': return a === b
    case 'ne': return a !== b
    case 'gt': return a > b
    case 'ge': return a >= b
    case 'lt': return a < b
    default: return a <= b
  }
}

/**
 * Compiles a `$filter` made of `prop op value` clauses joined by `and`. Properties in `timeProps`
 * compare as instants (value quoted or not); the other allowed properties compare as strings.
 */
export function compileFilter (filter: string | undefined, timeProps: string[], stringProps: string[]): Predicate {
  if (filter === undefined || filter.trim() === '') return () => true
  if (/\s(or|not)\s/i.test(` ${filter} `)) throw new QueryError(`The $filter '${filter}' uses an operator the simulator does not support`)
  const props = new Map([...timeProps, ...stringProps].map(p => [p.toLowerCase(), p]))
  const preds = filter.split(/\s+and\s+/i).map((clause): Predicate => {
    const m = CLAUSE.exec(clause)
    if (m === null) throw new QueryError(`Invalid filter clause '${clause}'`)
    const prop = props.get(m[1]!.toLowerCase())
    if (prop === undefined) throw new QueryError(`Property '${m[1]!}' is not filterable`)
    const op = m[2]!.toLowerCase()
    const value = unquote(m[3]!)
    if (timeProps.includes(prop)) {
      const t = Date.parse(value)
      if (Number.isNaN(t)) throw new QueryError(`The value '${value}' is not a valid DateTimeOffset`)
      return row => compare(Date.parse(String(row[prop])), t, op)
    }
    return row => compare(String(row[prop] ?? '').toLowerCase(), value.toLowerCase(), op)
  })
  return row => preds.every(p => p(row))
}

/** An OData page: `$top` (default and max `maxTop`) and `$skip`, with a nextLink while items remain. */
export function page<T> (items: T[], q: ParsedQuery, maxTop: number, linkBase: string): { value: T[], nextLink?: string } {
  const top = intOption(q, '$top', 0, maxTop) ?? maxTop
  const skip = intOption(q, '$skip', 0, Number.MAX_SAFE_INTEGER) ?? 0
  const value = items.slice(skip, skip + top)
  if (skip + value.length >= items.length || value.length === 0) return { value }
  const next = skip + value.length
  const options = q.options.filter(o => o.name.toLowerCase() !== '$skip')
  options.push({ name: '$skip', value: String(next) })
  return { value, nextLink: `${linkBase}?${buildQuery(options)}` }
}
