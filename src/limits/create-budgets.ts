import type { LimitsConfig } from '../config/schema.js'
import type { GatewayMetrics } from '../observability/metrics.js'
import { ALL_RATE_CLASSES } from '../graph/vocabulary.js'
import { createMemoryBudgets } from './memory-budgets.js'
import { createPlan } from './plan.js'
import { createSharedBudgets } from './shared-budgets.js'
import type { Clock } from './take-loop.js'
import type { RateBudgets, SharedBudgetStore } from './types.js'

export interface BudgetDeps {
  /** when given, budgets are shared by every replica through it (src/redis/budget-store.ts) */
  readonly store?: SharedBudgetStore | undefined
  readonly metrics?: GatewayMetrics
  readonly clock?: Clock
  /** processes on this host with budgets of their own (server.workers); each takes its part of a limit */
  readonly workers?: number
}

/** The gateway's rate budgets from the `limits` config: in the shared store when there is one, else in memory. */
export function createRateBudgets (limits: LimitsConfig, deps: BudgetDeps = {}): RateBudgets {
  const planOptions = {
    classes: ALL_RATE_CLASSES,
    overrides: limits.classes,
    clientShares: limits.clientShares,
    defaultClientShare: limits.defaultClientShare
  }
  const common = { maxTenants: limits.maxTenants, maxWaitMs: limits.maxWaitMs, clock: deps.clock, metrics: deps.metrics }
  // The store holds one exact budget for every process; memory, and the store's fallback, are per process.
  if (deps.store === undefined) return createMemoryBudgets({ ...common, plan: createPlan({ ...planOptions, parts: deps.workers }) })
  const plan = createPlan(planOptions)
  const fallbackPlan = createPlan({ ...planOptions, scale: limits.fallbackShare, parts: deps.workers })
  return createSharedBudgets({ ...common, store: deps.store, plan, fallbackPlan })
}
