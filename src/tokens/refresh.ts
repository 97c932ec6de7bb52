/** Runs `fn` after `ms`; returns a cancel function. Injected so tests drive time without waiting. */
export type Schedule = (fn: () => void, ms: number) => () => void

/** Real timers, unref'd so a pending refresh never keeps the process alive. */
export const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms)
  timer.unref()
  return () => clearTimeout(timer)
}

/** How early a token is renewed. */
export interface RefreshPolicy {
  /** renew when this much usable time is left (the "10 minutes") ... */
  readonly leadMs: number
  /** ... or when a sixth of the usable lifetime is left, whichever comes first */
  readonly leadFraction: number
  /** up to this fraction of the lead is added at random, so tenants acquired together spread out */
  readonly jitterFraction: number
}

export const DEFAULT_REFRESH: RefreshPolicy = { leadMs: 600_000, leadFraction: 1 / 6, jitterFraction: 0.25 }

/**
 * When to renew a token acquired at `acquiredAt`. Measured against the end of its usable life
 * (expiry minus skew), so a renewal that fails still leaves the lead time to retry on the old token;
 * the lead never exceeds half the usable life, so short-lived tokens are not renewed constantly.
 */
export function refreshAt (acquiredAt: number, expiresOn: number, skewMs: number, policy: RefreshPolicy, random: () => number): number {
  const usableEnd = expiresOn - skewMs
  const usable = usableEnd - acquiredAt
  if (usable <= 0) return acquiredAt
  const lead = Math.min(Math.max(policy.leadMs, usable * policy.leadFraction), usable / 2)
  return usableEnd - lead - random() * lead * policy.jitterFraction
}
