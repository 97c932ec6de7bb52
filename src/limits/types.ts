import type { Verdict, Window } from './window.js'

/** The outcome of asking for one call of a (tenant, rate class) budget. */
export type BudgetDecision =
  | { readonly ok: true }
  | { readonly ok: false, readonly retryAfterSeconds: number, readonly reason: 'local' | 'upstream' }

/**
 * Defender's per-(app, tenant) throttling, enforced before a call goes out. In memory for one replica,
 * in Redis for several; a Redis outage falls back to local state and never fails a request.
 */
export interface RateBudgets {
  /**
   * takes one call, waiting up to the configured bound for a slot (or `maxWaitMs`: 0 for a caller that
   * defers a tenant rather than wait, like fleet reads); never throws
   */
  take (tenantId: string, rateClass: string, client: string, maxWaitMs?: number): Promise<BudgetDecision>
  /** Defender answered 429: hold the (tenant, class) until Retry-After, with no calls meanwhile */
  hold (tenantId: string, rateClass: string, retryAfterSeconds: number): Promise<void>
  /** calls this process let through for the tenant in the last minute and hour, per rate class used; no I/O */
  usage (tenantId: string): BudgetUsage[]
  close (): Promise<void>
}

/** One rate class's use of a tenant's budget, for the status pages (null limit: none stated). */
export interface BudgetUsage {
  readonly rateClass: string
  readonly lastMinute: number
  readonly lastHour: number
  readonly perMinute: number | null
  readonly perHour: number | null
}

/**
 * One budget log for every replica, kept outside the process (src/redis/ implements it on Redis), so
 * limits/ decides without knowing where the log lives. Never throws.
 */
export interface SharedBudgetStore {
  /** decides one call on the shared log (recording it when it may go); undefined: unavailable, decide locally */
  take (tenantId: string, rateClass: string, client: string, windows: BudgetWindows): Promise<Verdict | undefined>
  /** no call for the (tenant, class) for `ms` on any replica; extends a hold, never shortens it */
  hold (tenantId: string, rateClass: string, ms: number): Promise<void>
  /**
   * A call this replica allowed on local state while the store could not answer: the store adds it to
   * the shared log once it can, so the other replicas count it after an outage or failover.
   */
  note? (tenantId: string, rateClass: string, client: string, windows: BudgetWindows): void
}

/** The windows one decision applies: the tenant's, and the client's share of them (empty: no share). */
export interface BudgetWindows {
  readonly tenant: readonly Window[]
  readonly client: readonly Window[]
}
