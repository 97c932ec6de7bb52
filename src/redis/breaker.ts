/**
 * The Redis circuit breaker as a pure state machine: a hung Redis (process alive, socket open, no
 * answers) costs the one call that times out, not one timeout per request for the whole outage.
 * closed: calls go to Redis. open: every call is answered locally at once, and a probe is due at
 * `probeAt`. probing: one PING is out; its answer closes the breaker, its failure opens it again.
 */

/** Label values of the opens counter: what opened the breaker. */
export type OpenReason = 'timeout' | 'error' | 'disconnected'

/** Open: answered locally since `since` (monotonic ms), next probe at `probeAt`. */
export interface OpenState { readonly kind: 'open', readonly generation: number, readonly since: number, readonly probeAt: number }

export type BreakerState =
  /** `since`: when it (last) closed */
  | { readonly kind: 'closed', readonly generation: number, readonly since: number }
  | OpenState
  | { readonly kind: 'probing', readonly generation: number, readonly since: number }

export type BreakerEvent =
  /** a call admitted in `generation` failed (a call begun before the last close cannot reopen it) */
  | { readonly type: 'failure', readonly generation: number, readonly reason: OpenReason }
  /** the connection closed: nothing will answer until it is back */
  | { readonly type: 'disconnected' }
  /** the connection is (again) ready: ioredis's ready check was answered */
  | { readonly type: 'connected' }
  /** the probe timer fired */
  | { readonly type: 'probe_due' }
  | { readonly type: 'probe_ok' }
  | { readonly type: 'probe_failed' }

/** Numeric values of the state gauge. */
export const STATE_VALUE = { closed: 0, open: 1, probing: 2 } as const

/**
 * Before the first connection: open (the gateway starts on local state; not counted in the opens,
 * though its time in fallback is), with the first probe at `probeAt`.
 */
export function initialState (now: number, probeAt: number): OpenState {
  return { kind: 'open', generation: 0, since: now, probeAt }
}

/**
 * The next state; `delayMs` is the (jittered) wait before the next probe. A failure after a calm spell
 * is probed at once (one slow answer, e.g. from a stalled event loop, must not cost a whole interval
 * of local answers); one within `delayMs` of the last close waits, so a Redis that answers PING but
 * not our calls costs one timeout per interval, not one per request. A lost connection waits too, as
 * ioredis's reconnect closes the breaker by itself.
 */
export function nextState (state: BreakerState, event: BreakerEvent, now: number, delayMs: number): BreakerState {
  const close = (): BreakerState => ({ kind: 'closed', generation: state.generation + 1, since: now })
  const open = (since: number, probeAt = now + delayMs): BreakerState => ({ kind: 'open', generation: state.generation, since, probeAt })
  switch (state.kind) {
    case 'closed':
      if (event.type === 'failure' && event.generation === state.generation) return open(now, now - state.since >= delayMs ? now : now + delayMs)
      if (event.type === 'disconnected') return open(now)
      return state
    case 'open':
      if (event.type === 'connected') return close()
      if (event.type === 'probe_due') return { kind: 'probing', generation: state.generation, since: state.since }
      return state
    case 'probing':
      if (event.type === 'connected' || event.type === 'probe_ok') return close()
      if (event.type === 'probe_failed') return open(state.since)
      return state
  }
}

/**
 * Wait before a probe: uniform in [0.5, 1.5) × the interval, so replicas that lost Redis together do
 * not probe it in step. `random` in [0, 1).
 */
export function probeDelay (intervalMs: number, random: number): number {
  return Math.max(1, Math.round(intervalMs * (0.5 + random)))
}
