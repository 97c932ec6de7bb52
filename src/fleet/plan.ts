import { CURSOR_BOUNDS, tailLength, type CursorState, type TenantPosition } from './cursor.js'

/** Which tenants one page reads, and where the iteration stands before it. */
export interface PagePlan {
  /** in-progress tenants first (in cursor order), then newly started ones in id order */
  readonly reads: readonly TenantPosition[]
  /** the frontier once the new tenants are started */
  readonly frontier: string
  /** eligible tenants not started yet, after this page's new ones */
  readonly notStarted: number
  /** eligible tenants finished before this page */
  readonly done: number
  /** tenants in progress that are no longer eligible (the config changed): reported, then left out */
  readonly gone: readonly TenantPosition[]
}

/** How one tenant's read ended, as far as the cursor cares. */
export type ReadResult =
  | { readonly tenant: string, readonly kind: 'next', readonly link: string }
  | { readonly tenant: string, readonly kind: 'complete' }
  /** failed for good (a 4xx Defender will repeat, a link the gateway cannot follow): reported, then dropped */
  | { readonly tenant: string, readonly kind: 'dropped' }
  /** not read or deferred: keeps its position */
  | { readonly tenant: string, readonly kind: 'kept' }
  /** failed for now: keeps its position, one more failure counted */
  | { readonly tenant: string, readonly kind: 'failed' }

/**
 * Plans a page: the cursor's in-progress tenants that are still eligible, plus the next tenants after the
 * frontier (ids sorted) until `window` are in progress, and only as many as the cursor's tail budget is
 * likely to hold (judged by the tails it holds now), so few answers are read only to be put back.
 * `eligible` must be sorted lowercase GUIDs. Pure.
 */
export function planPage (eligible: readonly string[], state: Pick<CursorState, 'target' | 'frontier' | 'active'>, window: number): PagePlan {
  const allowed = new Set(eligible)
  const active = state.active.filter((p) => allowed.has(p.tenant))
  const limit = Math.min(window, CURSOR_BOUNDS.maxInProgress)
  const used = active.reduce((sum, p) => sum + tailLength(state.target, p), 0)
  const linked = active.filter((p) => p.link !== undefined).length
  const each = linked === 0 ? 0 : used / linked
  const fresh: TenantPosition[] = []
  let next = state.frontier === '' ? 0 : firstAfter(eligible, state.frontier)
  while (active.length + fresh.length < limit && next < eligible.length && used + each * (fresh.length + 1) <= CURSOR_BOUNDS.tailBudget) {
    fresh.push({ tenant: eligible[next++] as string })
  }
  const frontier = fresh.length > 0 ? (fresh[fresh.length - 1] as TenantPosition).tenant : state.frontier
  const notStarted = eligible.length - next
  const gone = state.active.filter((p) => !allowed.has(p.tenant))
  return { reads: [...active, ...fresh], frontier, notStarted, done: eligible.length - notStarted - active.length - fresh.length, gone }
}

/**
 * The positions after a page: tenants the page did not get to go first next time (fairness under a
 * time limit or budget), then those it moved on; finished and dropped tenants leave. Pure.
 */
export function nextActive (reads: readonly TenantPosition[], results: ReadonlyMap<string, ReadResult>): TenantPosition[] {
  const waiting: TenantPosition[] = []
  const moved: TenantPosition[] = []
  for (const position of reads) {
    const result = results.get(position.tenant)
    if (result === undefined || result.kind === 'kept') waiting.push(position)
    else if (result.kind === 'failed') waiting.push({ ...position, failures: (position.failures ?? 0) + 1 })
    else if (result.kind === 'next') moved.push({ tenant: position.tenant, link: result.link })
  }
  return [...waiting, ...moved]
}

/**
 * Whether a tenant's new position fits the cursor's tail budget, given the positions as they stand.
 * A page checks this before it passes the tenant's items on, so a cursor never outgrows its bound.
 */
export function fitsTailBudget (target: string, positions: ReadonlyMap<string, TenantPosition>, tenant: string, link: string): boolean {
  let total = 0
  for (const [id, position] of positions) if (id !== tenant) total += tailLength(target, position)
  return total + tailLength(target, { tenant, link }) <= CURSOR_BOUNDS.tailBudget
}

/** Index of the first id after `frontier` in a sorted list (binary search). */
function firstAfter (sorted: readonly string[], frontier: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as string) <= frontier) lo = mid + 1
    else hi = mid
  }
  return lo
}
