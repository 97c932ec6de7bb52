/** A Defender API host the gateway may forward to. */
export interface Region {
  readonly name: string
  /** base URL without trailing slash */
  readonly url: string
}

/**
 * Which region a tenant's request goes to. A tenant's residency list is never left: a fixed region
 * outside it yields the tenant's first allowed region. `auto` takes the first allowed region until
 * latency-based selection exists (issue: regions).
 */
export function chooseRegion (table: readonly Region[], configured: string, allowed: readonly string[] | undefined): Region | undefined {
  const candidates = allowed === undefined ? table : table.filter((r) => allowed.includes(r.name))
  if (configured !== 'auto') {
    const fixed = candidates.find((r) => r.name === configured)
    if (fixed !== undefined) return fixed
  }
  return candidates[0]
}

/** The region table as a list, URLs normalised. */
export function regionList (table: Readonly<Record<string, string>>): Region[] {
  return Object.entries(table).map(([name, url]) => ({ name, url: url.replace(/\/+$/, '') }))
}
