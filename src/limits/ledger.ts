import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import type { BudgetPlan } from './plan.js'
import type { BudgetUsage } from './types.js'
import { decide, firstAfter, HOUR_MS, MINUTE_MS, prune, record, type Verdict } from './window.js'

interface ClassState {
  readonly calls: number[]
  holdUntil: number
  /** made on the first client share that applies: most deployments have none (~100 B per tenant) */
  clients?: Map<string, number[]>
}

/** One replica's budget state; the in-memory budgets, and the Redis budgets' fallback and shadow. */
export interface Ledger {
  /** decides a call and records it when it may go */
  attempt (tenantId: string, rateClass: string, client: string, now: number): Verdict
  /** records a call decided elsewhere (Redis), so local state is warm if Redis goes away */
  note (tenantId: string, rateClass: string, client: string, now: number): void
  /** no call for the (tenant, class) before `until` */
  hold (tenantId: string, rateClass: string, until: number): void
  /** calls recorded for the tenant in the last minute and hour, per rate class, with `plan`'s limits */
  usage (tenantId: string, now: number, plan: BudgetPlan): BudgetUsage[]
}

/** Creates a ledger bounded by an LRU of tenants (the least recently used tenant's state is forgotten). */
export function createLedger (plan: BudgetPlan, maxTenants: number): Ledger {
  const tenants = new LRUCache<string, Map<string, ClassState>>(upTo(maxTenants))

  function stateOf (tenantId: string, rateClass: string): ClassState {
    let classes = tenants.get(tenantId)
    if (classes === undefined) {
      classes = new Map()
      tenants.set(tenantId, classes)
    }
    let state = classes.get(rateClass)
    if (state === undefined) {
      state = { calls: [], holdUntil: 0 }
      classes.set(rateClass, state)
    }
    return state
  }

  function clientLog (state: ClassState, rateClass: string, client: string): number[] | undefined {
    if (plan.client(rateClass, client).length === 0) return undefined
    state.clients ??= new Map()
    let calls = state.clients.get(client)
    if (calls === undefined) {
      calls = []
      state.clients.set(client, calls)
    }
    return calls
  }

  return {
    attempt (tenantId, rateClass, client, now) {
      const state = stateOf(tenantId, rateClass)
      const ledger = { tenant: state.calls, client: clientLog(state, rateClass, client), holdUntil: state.holdUntil }
      return decide(ledger, plan.tenant(rateClass), plan.client(rateClass, client), now)
    },
    note (tenantId, rateClass, client, now) {
      const state = stateOf(tenantId, rateClass)
      const logs: Array<[number[] | undefined, ReturnType<BudgetPlan['tenant']>]> = [
        [state.calls, plan.tenant(rateClass)],
        [clientLog(state, rateClass, client), plan.client(rateClass, client)]
      ]
      for (const [calls, windows] of logs) {
        if (calls === undefined || windows.length === 0) continue
        prune(calls, windows, now)
        record(calls, now)
      }
    },
    hold (tenantId, rateClass, until) {
      const state = stateOf(tenantId, rateClass)
      state.holdUntil = Math.max(state.holdUntil, until)
    },
    usage (tenantId, now, limits) {
      // The default class is always listed, so an idle tenant still shows its limits.
      const classes = [...tenants.peek(tenantId) ?? []]
      if (!classes.some(([rateClass]) => rateClass === 'default')) classes.unshift(['default', { calls: [], holdUntil: 0 }])
      return classes.map(([rateClass, state]) => {
        const windows = limits.tenant(rateClass)
        const limitOf = (ms: number): number | null => windows.find((w) => w.ms === ms)?.limit ?? null
        return {
          rateClass,
          lastMinute: state.calls.length - firstAfter(state.calls, now - MINUTE_MS),
          lastHour: state.calls.length - firstAfter(state.calls, now - HOUR_MS),
          perMinute: limitOf(MINUTE_MS),
          perHour: limitOf(HOUR_MS)
        }
      })
    }
  }
}
