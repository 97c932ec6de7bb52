import type { GatewayMetrics } from '../observability/metrics.js'
import { createLedger } from './ledger.js'
import type { BudgetPlan } from './plan.js'
import { countDecision, holdMs, systemClock, takeWithin, type Clock } from './take-loop.js'
import type { RateBudgets } from './types.js'

export interface MemoryBudgetOptions {
  readonly plan: BudgetPlan
  readonly maxTenants: number
  readonly maxWaitMs: number
  readonly clock?: Clock
  readonly metrics?: GatewayMetrics
}

/** Budgets of one replica, in memory: the default, and exact for a single gateway process. */
export function createMemoryBudgets (options: MemoryBudgetOptions): RateBudgets {
  const clock = options.clock ?? systemClock
  const ledger = createLedger(options.plan, options.maxTenants)
  return {
    async take (tenantId, rateClass, client, maxWaitMs = options.maxWaitMs) {
      const attempt = async () => ledger.attempt(tenantId, rateClass, client, clock.now())
      const { decision, outcome } = await takeWithin(attempt, maxWaitMs, clock)
      countDecision(options.metrics, rateClass, outcome)
      return decision
    },
    async hold (tenantId, rateClass, retryAfterSeconds) {
      ledger.hold(tenantId, rateClass, clock.now() + holdMs(retryAfterSeconds))
      options.metrics?.rateBudgetHolds.inc({ rate_class: rateClass })
    },
    usage: (tenantId) => ledger.usage(tenantId, clock.now(), options.plan),
    async close () {}
  }
}
