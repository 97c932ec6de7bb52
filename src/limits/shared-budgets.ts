import type { GatewayMetrics } from '../observability/metrics.js'
import { createLedger } from './ledger.js'
import type { BudgetPlan } from './plan.js'
import { countDecision, holdMs, systemClock, takeWithin, type Clock } from './take-loop.js'
import type { RateBudgets, SharedBudgetStore } from './types.js'
import type { Verdict } from './window.js'

export interface SharedBudgetOptions {
  readonly store: SharedBudgetStore
  readonly plan: BudgetPlan
  /** the plan scaled by limits.fallbackShare, used while the store cannot answer */
  readonly fallbackPlan: BudgetPlan
  readonly maxTenants: number
  readonly maxWaitMs: number
  readonly clock?: Clock
  readonly metrics?: GatewayMetrics
}

/**
 * Budgets shared by every replica through a store (Redis). Each allowed call is also noted locally, so
 * that when the store goes away the local fallback starts from what this replica has already sent.
 */
export function createSharedBudgets (options: SharedBudgetOptions): RateBudgets {
  const { store, plan } = options
  const clock = options.clock ?? systemClock
  const local = createLedger(options.fallbackPlan, options.maxTenants)

  async function attempt (tenantId: string, rateClass: string, client: string): Promise<Verdict> {
    const windows = { tenant: plan.tenant(rateClass), client: plan.client(rateClass, client) }
    const shared = await store.take(tenantId, rateClass, client, windows)
    if (shared === undefined) {
      const verdict = local.attempt(tenantId, rateClass, client, clock.now())
      if (verdict.waitMs === 0) store.note?.(tenantId, rateClass, client, windows)
      return verdict
    }
    if (shared.waitMs === 0) local.note(tenantId, rateClass, client, clock.now())
    return shared
  }

  return {
    async take (tenantId, rateClass, client, maxWaitMs = options.maxWaitMs) {
      const { decision, outcome } = await takeWithin(async () => await attempt(tenantId, rateClass, client), maxWaitMs, clock)
      countDecision(options.metrics, rateClass, outcome)
      return decision
    },
    async hold (tenantId, rateClass, retryAfterSeconds) {
      const ms = holdMs(retryAfterSeconds)
      // Locally too, so the hold survives an outage of the store on this replica.
      local.hold(tenantId, rateClass, clock.now() + ms)
      options.metrics?.rateBudgetHolds.inc({ rate_class: rateClass })
      await store.hold(tenantId, rateClass, ms)
    },
    // This replica's share of the traffic (the calls it noted), against the shared limits.
    usage: (tenantId) => local.usage(tenantId, clock.now(), plan),
    async close () {}
  }
}
