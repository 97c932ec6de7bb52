import { setTimeout as delay } from 'node:timers/promises'
import type { GatewayMetrics } from '../observability/metrics.js'
import type { BudgetDecision } from './types.js'
import { retryAfterSeconds, type Verdict } from './window.js'

/** Time as budgets see it; injected so tests decide when a window has passed. */
export interface Clock {
  now (): number
  sleep (ms: number): Promise<void>
}

/** Monotonic milliseconds (a wall-clock step must not open or close a window) and real sleeps. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: async (ms) => { await delay(ms) }
}

/** Label values of defender_gateway_rate_budget_decisions_total. */
export type Outcome = 'allowed' | 'allowed_after_wait' | 'denied_budget' | 'denied_client_share' | 'denied_upstream_hold'

/** Attempts per take: waking waiters race for the freed slot, and each loser may wait again, but not forever. */
const MAX_ATTEMPTS = 8

/** Asks `attempt` until it says go, sleeping for its waits while they fit in `maxWaitMs`. */
export async function takeWithin (attempt: () => Promise<Verdict>, maxWaitMs: number, clock: Clock): Promise<{ decision: BudgetDecision, outcome: Outcome }> {
  const deadline = clock.now() + maxWaitMs
  let verdict = await attempt()
  let waited = false
  for (let i = 1; i < MAX_ATTEMPTS && verdict.waitMs > 0 && verdict.waitMs <= deadline - clock.now(); i++) {
    await clock.sleep(verdict.waitMs)
    waited = true
    verdict = await attempt()
  }
  if (verdict.waitMs <= 0) return { decision: { ok: true }, outcome: waited ? 'allowed_after_wait' : 'allowed' }
  const upstream = verdict.cause === 'hold'
  return {
    decision: { ok: false, retryAfterSeconds: retryAfterSeconds(verdict.waitMs), reason: upstream ? 'upstream' : 'local' },
    outcome: upstream ? 'denied_upstream_hold' : verdict.cause === 'client' ? 'denied_client_share' : 'denied_budget'
  }
}

/** Longest hold honoured: a garbled or huge Retry-After must not block a tenant for a day. */
export const MAX_HOLD_SECONDS = 3600

/** Retry-After seconds → hold in ms, at least 1 s (Defender's own minimum) and at most MAX_HOLD_SECONDS. */
export function holdMs (retryAfterSeconds: number): number {
  const seconds = Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : 1
  return Math.min(MAX_HOLD_SECONDS, Math.max(1, seconds)) * 1000
}

/** Counts one decision, when the app passed its metrics. */
export function countDecision (metrics: GatewayMetrics | undefined, rateClass: string, outcome: Outcome): void {
  metrics?.rateBudgetDecisions.inc({ rate_class: rateClass, outcome })
}
