import { isAvailable, type RegionHealth } from './health.js'

/** A Defender API host the gateway may forward to. */
export interface Region {
  readonly name: string
  /** base URL without trailing slash */
  readonly url: string
}

/** The region table as a list, URLs normalised. */
export function regionList (table: Readonly<Record<string, string>>): Region[] {
  return Object.entries(table).map(([name, url]) => ({ name, url: url.replace(/\/+$/, '') }))
}

/**
 * The order in which to try regions for one request: only regions the tenant allows (residency is never
 * left), available ones first; a fixed `configured` region leads, `auto` ranks by smoothed RTT
 * (unmeasured regions last, table order breaking ties). Regions in backoff follow, soonest back first, so
 * a request still has somewhere to go when every allowed region looks down.
 */
export function rankRegions (
  table: readonly Region[],
  health: ReadonlyMap<string, RegionHealth>,
  configured: string,
  allowed: readonly string[] | undefined,
  now: number
): Region[] {
  const candidates = allowed === undefined ? [...table] : table.filter((r) => allowed.includes(r.name))
  const of = (r: Region): RegionHealth | undefined => health.get(r.name)
  const up = candidates.filter((r) => { const h = of(r); return h === undefined || isAvailable(h, now) })
  const down = candidates.filter((r) => !up.includes(r)).sort((a, b) => of(a)!.downUntil - of(b)!.downUntil)
  const order = new Map(candidates.map((r, i) => [r.name, i]))
  up.sort((a, b) => {
    if (configured !== 'auto' && (a.name === configured) !== (b.name === configured)) return a.name === configured ? -1 : 1
    const ra = of(a)?.rttMs ?? Number.POSITIVE_INFINITY
    const rb = of(b)?.rttMs ?? Number.POSITIVE_INFINITY
    return ra !== rb ? ra - rb : (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0)
  })
  return [...up, ...down]
}
