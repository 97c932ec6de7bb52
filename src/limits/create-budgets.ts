import type { LimitsConfig } from '../config/schema.js'
import type { GatewayMetrics } from '../observability/metrics.js'
import { RATE_CLASSES } from '../policy/catalogue-data.js'
import type { SharedRedis } from '../redis/connection.js'
import { createMemoryBudgets } from './memory-budgets.js'
import { createPlan } from './plan.js'
import { createRedisBudgets } from './redis-budgets.js'
import type { Clock } from './take-loop.js'
import type { RateBudgets } from './types.js'

export interface BudgetDeps {
  /** when given, budgets are shared by every replica on this Redis */
  readonly redis?: SharedRedis | undefined
  readonly metrics?: GatewayMetrics
  readonly clock?: Clock
  /** processes on this host with budgets of their own (server.workers); each takes its part of a limit */
  readonly workers?: number
}

/** The gateway's rate budgets from the `limits` config: in Redis when there is one, else in memory. */
export function createRateBudgets (limits: LimitsConfig, deps: BudgetDeps = {}): RateBudgets {
  const planOptions = {
    classes: RATE_CLASSES,
    overrides: limits.classes,
    clientShares: limits.clientShares,
    defaultClientShare: limits.defaultClientShare
  }
  const common = { maxTenants: limits.maxTenants, maxWaitMs: limits.maxWaitMs, clock: deps.clock, metrics: deps.metrics }
  // Redis holds one exact budget for every process; memory, and Redis's fallback, are per process.
  if (deps.redis === undefined) return createMemoryBudgets({ ...common, plan: createPlan({ ...planOptions, parts: deps.workers }) })
  const plan = createPlan(planOptions)
  const fallbackPlan = createPlan({ ...planOptions, scale: limits.fallbackShare, parts: deps.workers })
  return createRedisBudgets({ ...common, redis: deps.redis, plan, fallbackPlan })
}
