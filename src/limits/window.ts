/**
 * Sliding-window-log decisions as plain functions of (recorded calls, limits, now). A log is exact:
 * Defender counts calls in any rolling window, so an approximation (fixed buckets, GCRA with a burst)
 * would let a replica exceed it at a window edge. Memory grows with traffic, not with time.
 */

/** At most `limit` calls in any `ms`-long window. */
export interface Window {
  readonly ms: number
  readonly limit: number
}

export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000

/** The windows of a rate class: null means Defender states no such limit. `parts`: see `divided`. */
export function windowsOf (limits: { perMinute: number | null, perHour: number | null }, scale = 1, parts = 1): Window[] {
  const out: Window[] = []
  if (limits.perMinute !== null) out.push({ ms: MINUTE_MS, limit: divided(scaled(limits.perMinute, scale), parts) })
  if (limits.perHour !== null) out.push({ ms: HOUR_MS, limit: divided(scaled(limits.perHour, scale), parts) })
  return out
}

/** A fraction of a limit, never below one call (a share of 0 would lock a client out for good). */
export function scaled (limit: number, share: number): number {
  return Math.max(1, Math.floor(limit * share))
}

/**
 * One process's part of a limit that `parts` processes each enforce in memory (server.workers without
 * Redis): rounded down so the parts never add up to more than the limit, in integers because
 * `limit * (1 / parts)` can land just under a whole number; never below one call, so a limit smaller
 * than `parts` is the one case where the parts exceed it (the primary warns about those).
 */
export function divided (limit: number, parts: number): number {
  return Math.max(1, Math.floor(limit / parts))
}

/** Index of the first call still inside a window that starts after `since` (calls are ascending). */
export function firstAfter (calls: readonly number[], since: number): number {
  let lo = 0
  let hi = calls.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((calls[mid] as number) > since) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** Milliseconds until `calls` admit one more call under every window; 0 means now. */
export function waitFor (calls: readonly number[], windows: readonly Window[], now: number): number {
  let wait = 0
  for (const w of windows) {
    const inside = calls.length - firstAfter(calls, now - w.ms)
    if (inside < w.limit) continue
    // The oldest (inside - limit + 1) calls in the window must leave it; the last of them sits here.
    const freeing = calls[calls.length - w.limit] as number
    wait = Math.max(wait, freeing + w.ms - now)
  }
  return wait
}

/** Drops calls older than the longest window, in place, so a log never outgrows its limits. */
export function prune (calls: number[], windows: readonly Window[], now: number): void {
  const longest = windows.reduce((m, w) => Math.max(m, w.ms), 0)
  const keep = firstAfter(calls, now - longest)
  if (keep > 0) calls.splice(0, keep)
}

/** Appends a call, keeping the log ascending even if the clock stepped back. */
export function record (calls: number[], now: number): void {
  const last = calls[calls.length - 1]
  calls.push(last !== undefined && last > now ? last : now)
}

/** What a budget says about one call: go now, or the wait and which limit imposes it. */
export interface Verdict {
  readonly waitMs: number
  readonly cause: 'none' | 'hold' | 'tenant' | 'client'
}

/** The state one decision reads: the tenant's log, the client's log (if it has a share) and a hold. */
export interface Ledger {
  readonly tenant: number[]
  readonly client: number[] | undefined
  readonly holdUntil: number
}

/** Decides one call and records it when it may go; the longest wait names the cause. */
export function decide (ledger: Ledger, tenantWindows: readonly Window[], clientWindows: readonly Window[], now: number): Verdict {
  prune(ledger.tenant, tenantWindows, now)
  if (ledger.client !== undefined) prune(ledger.client, clientWindows, now)
  const waits: Array<[Verdict['cause'], number]> = [
    ['hold', Math.max(0, ledger.holdUntil - now)],
    ['tenant', waitFor(ledger.tenant, tenantWindows, now)],
    ['client', ledger.client === undefined ? 0 : waitFor(ledger.client, clientWindows, now)]
  ]
  const [cause, waitMs] = waits.reduce((a, b) => (b[1] > a[1] ? b : a))
  if (waitMs > 0) return { waitMs, cause }
  if (tenantWindows.length > 0) record(ledger.tenant, now)
  if (ledger.client !== undefined && clientWindows.length > 0) record(ledger.client, now)
  return { waitMs: 0, cause: 'none' }
}

/** Retry-After in whole seconds: rounded up so a caller that obeys it finds a slot, and at least 1. */
export function retryAfterSeconds (waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000))
}
