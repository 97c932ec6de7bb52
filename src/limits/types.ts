/** The outcome of asking for one call of a (tenant, rate class) budget. */
export type BudgetDecision =
  | { readonly ok: true }
  | { readonly ok: false, readonly retryAfterSeconds: number, readonly reason: 'local' | 'upstream' }

/**
 * Defender's per-(app, tenant) throttling, enforced before a call goes out. In memory for one replica,
 * in Redis for several; a Redis outage falls back to local state and never fails a request.
 */
export interface RateBudgets {
  /** takes one call, waiting up to the configured bound for a slot; never throws */
  take (tenantId: string, rateClass: string, client: string): Promise<BudgetDecision>
  /** Defender answered 429: hold the (tenant, class) until Retry-After, with no calls meanwhile */
  hold (tenantId: string, rateClass: string, retryAfterSeconds: number): Promise<void>
  close (): Promise<void>
}
