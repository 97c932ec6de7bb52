import type { ParsedConfig } from './schema.js'

/** What a reload did to one list, by name: never a key, a hash or a secret. */
export interface ListChange {
  readonly added: string[]
  readonly removed: string[]
  readonly changed: string[]
}

/** The parts of the config a SIGHUP applies, before and after. */
export interface ReloadDiff {
  readonly clients: ListChange
  readonly tenants: ListChange
  readonly extraRoutes: ListChange
}

type Reloadable = Pick<ParsedConfig, 'clients' | 'tenants' | 'extraRoutes'>

/**
 * Which clients, tenants and extra routes a reload adds, removes and changes, so an operator sees at
 * once what a file that still parses (half-written, wrong copy) did. Clients and extra routes are
 * named by their name, tenants by their name or else their id; a new key for a client is a change.
 */
export function diffReload (before: Reloadable, after: Reloadable): ReloadDiff {
  return {
    clients: diffList(before.clients, after.clients, (c) => c.name.toLowerCase(), (c) => c.name),
    tenants: diffList(before.tenants, after.tenants, (t) => t.id.toLowerCase(), (t) => t.name ?? t.id),
    extraRoutes: diffList(before.extraRoutes, after.extraRoutes, (r) => r.name, (r) => r.name)
  }
}

/** True when a reload left every list as it was. */
export function unchanged (diff: ReloadDiff): boolean {
  return Object.values(diff).every((c: ListChange) => c.added.length + c.removed.length + c.changed.length === 0)
}

/** Names of everything a reload removed (a warning: callers or tenants lose access). */
export function removedNames (diff: ReloadDiff): string[] {
  return [...diff.clients.removed, ...diff.tenants.removed, ...diff.extraRoutes.removed]
}

function diffList<T extends object> (before: readonly T[], after: readonly T[], key: (item: T) => string, label: (item: T) => string): ListChange {
  const old = new Map(before.map((item) => [key(item), item]))
  const next = new Map(after.map((item) => [key(item), item]))
  const byName = (a: string, b: string): number => a.localeCompare(b)
  return {
    added: [...next].filter(([k]) => !old.has(k)).map(([, item]) => label(item)).sort(byName),
    removed: [...old].filter(([k]) => !next.has(k)).map(([, item]) => label(item)).sort(byName),
    changed: [...next].filter(([k, item]) => old.has(k) && canonical(old.get(k)) !== canonical(item)).map(([, item]) => label(item)).sort(byName)
  }
}

/**
 * A comparable form: keys sorted, lists of names compared as sets (their order means nothing), text
 * without case (ids, names, permissions and hex hashes all match regardless of it).
 */
function canonical (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return v.toLowerCase()
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return [...(v as string[])].map((x) => x.toLowerCase()).sort()
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
    return v
  })
}
