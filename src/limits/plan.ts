import { scaled, windowsOf, type Window } from './window.js'

/** Per-class limits as the catalogue states them (null = no such limit). */
export interface ClassLimit { readonly perMinute: number | null, readonly perHour: number | null }
/** The catalogue's table; `default` is what an unknown class falls back to. */
export type ClassLimits = Readonly<Record<string, ClassLimit>> & { readonly default: ClassLimit }

export interface PlanOptions {
  /** the catalogue's RATE_CLASSES */
  readonly classes: ClassLimits
  /** config overrides per class; a missing field keeps the catalogue's value */
  readonly overrides?: Readonly<Record<string, { perMinute?: number | null | undefined, perHour?: number | null | undefined }>>
  readonly clientShares?: Readonly<Record<string, number>>
  readonly defaultClientShare?: number
  /** fraction of every limit this plan allows (fallback while Redis is down) */
  readonly scale?: number
  /** processes on this host that each enforce this plan in memory (server.workers): each gets its part */
  readonly parts?: number
}

/** Which windows apply to a (rate class) and to a (rate class, client); computed once, then cached. */
export interface BudgetPlan {
  tenant (rateClass: string): readonly Window[]
  client (rateClass: string, client: string): readonly Window[]
}

/** Turns catalogue limits, overrides and client shares into windows; unknown classes get `default`'s. */
export function createPlan (options: PlanOptions): BudgetPlan {
  const scale = options.scale ?? 1
  const shares = new Map(Object.entries(options.clientShares ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
  const defaultShare = options.defaultClientShare ?? 1
  const tenantCache = new Map<string, readonly Window[]>()
  const clientCache = new Map<string, readonly Window[]>()

  function tenant (rateClass: string): readonly Window[] {
    // An unknown class is budgeted as `default` (overrides included), never as unlimited.
    if (!Object.hasOwn(options.classes, rateClass)) return tenant('default')
    let windows = tenantCache.get(rateClass)
    if (windows === undefined) {
      windows = windowsOf(limitsOf(options, rateClass), scale, options.parts)
      tenantCache.set(rateClass, windows)
    }
    return windows
  }

  function client (rateClass: string, name: string): readonly Window[] {
    const share = shares.get(name.toLowerCase()) ?? defaultShare
    if (share >= 1) return []
    const key = `${rateClass}\u0000${name.toLowerCase()}`
    let windows = clientCache.get(key)
    if (windows === undefined) {
      windows = tenant(rateClass).map((w) => ({ ms: w.ms, limit: scaled(w.limit, share) }))
      clientCache.set(key, windows)
    }
    return windows
  }

  return { tenant, client }
}

/**
 * The limits that `parts` processes cannot split without exceeding them (fewer calls than processes),
 * as `class.window (limit)`: each process still allows one call, so together they may send `parts`.
 */
export function indivisibleLimits (options: Pick<PlanOptions, 'classes' | 'overrides'>, parts: number): string[] {
  if (parts <= 1) return []
  return Object.keys(options.classes).flatMap((rateClass) => {
    const limits = limitsOf(options, rateClass)
    return (['perMinute', 'perHour'] as const)
      .filter((w) => limits[w] !== null && (limits[w] as number) < parts)
      .map((w) => `${rateClass}.${w} (${String(limits[w])})`)
  })
}

/** A known class's limits with the config's overrides applied. */
function limitsOf (options: Pick<PlanOptions, 'classes' | 'overrides'>, rateClass: string): ClassLimit {
  const base = options.classes[rateClass] as ClassLimit
  const override = options.overrides?.[rateClass] ?? {}
  return { perMinute: pick(override.perMinute, base.perMinute), perHour: pick(override.perHour, base.perHour) }
}

/** An override's value when given (null included: it removes the limit), else the catalogue's. */
function pick (override: number | null | undefined, base: number | null): number | null {
  return override === undefined ? base : override
}
