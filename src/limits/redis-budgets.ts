import { randomBytes } from 'node:crypto'
import type { GatewayMetrics } from '../observability/metrics.js'
import type { SharedRedis } from '../redis/connection.js'
import { createLedger } from './ledger.js'
import type { BudgetPlan } from './plan.js'
import { defineBudgetScripts } from './redis-scripts.js'
import { countDecision, holdMs, systemClock, takeWithin, type Clock } from './take-loop.js'
import type { RateBudgets } from './types.js'
import type { Verdict, Window } from './window.js'

export interface RedisBudgetOptions {
  readonly redis: SharedRedis
  readonly plan: BudgetPlan
  /** the plan scaled by limits.fallbackShare, used while Redis is down */
  readonly fallbackPlan: BudgetPlan
  readonly maxTenants: number
  readonly maxWaitMs: number
  readonly clock?: Clock
  readonly metrics?: GatewayMetrics
}

const CAUSES: ReadonlyArray<Verdict['cause']> = ['none', 'hold', 'tenant', 'client']

/**
 * Budgets shared by every replica through Redis. Each allowed call is also noted locally, so that
 * when Redis goes away the local fallback starts from what this replica has already sent.
 */
export function createRedisBudgets (options: RedisBudgetOptions): RateBudgets {
  const { redis, plan } = options
  const clock = options.clock ?? systemClock
  const local = createLedger(options.fallbackPlan, options.maxTenants)
  const replica = randomBytes(6).toString('hex')
  let sequence = 0
  defineBudgetScripts(redis.client)
  // The hash tag keeps a budget's keys in one cluster slot, as a multi-key script needs.
  const base = (tenantId: string, rateClass: string): string => `${redis.prefix}rl:{${tenantId}|${rateClass}}`

  async function remote (tenantId: string, rateClass: string, client: string): Promise<Verdict> {
    const key = base(tenantId, rateClass)
    const member = `${replica}:${++sequence}`
    const args = [member, ...flatten(plan.tenant(rateClass)), ...flatten(plan.client(rateClass, client))]
    const [waitMs, cause] = await redis.client.dgwTake(`${key}:calls`, `${key}:hold`, `${key}:client:${client.toLowerCase()}`, ...args)
    if (waitMs === 0) local.note(tenantId, rateClass, client, clock.now())
    return { waitMs, cause: CAUSES[cause] as Verdict['cause'] }
  }

  return {
    async take (tenantId, rateClass, client) {
      const attempt = async (): Promise<Verdict> => await redis.guard('take',
        async () => await remote(tenantId, rateClass, client),
        () => local.attempt(tenantId, rateClass, client, clock.now()))
      const { decision, outcome } = await takeWithin(attempt, options.maxWaitMs, clock)
      countDecision(options.metrics, rateClass, outcome)
      return decision
    },
    async hold (tenantId, rateClass, retryAfterSeconds) {
      const ms = holdMs(retryAfterSeconds)
      // Locally too, so the hold survives a Redis outage on this replica.
      local.hold(tenantId, rateClass, clock.now() + ms)
      options.metrics?.rateBudgetHolds.inc({ rate_class: rateClass })
      await redis.guard('hold', async () => { await redis.client.dgwHold(`${base(tenantId, rateClass)}:hold`, ms) }, () => {})
    },
    async close () {}
  }
}

/** Windows as script arguments: count, then ms/limit pairs. */
function flatten (windows: readonly Window[]): number[] {
  return [windows.length, ...windows.flatMap((w) => [w.ms, w.limit])]
}
