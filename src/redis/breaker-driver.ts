import { initialState, nextState, probeDelay, type BreakerEvent, type BreakerState } from './breaker.js'

export interface BreakerDriverOptions {
  /** mean wait between probes while open (redis.probeIntervalMs) */
  readonly intervalMs: number
  /** one PING, bounded by the connection's command timeout; resolves when Redis answered */
  readonly probe: () => Promise<unknown>
  /** monotonic milliseconds */
  readonly now?: () => number
  /** [0, 1), for the probe jitter */
  readonly random?: () => number
  /** runs `fn` after `ms` and returns its cancel; tests pass one they fire themselves */
  readonly schedule?: (fn: () => void, ms: number) => () => void
  /** every change of state, with the event that caused it (metrics and logs) */
  readonly onChange?: (from: BreakerState, to: BreakerState, event: BreakerEvent) => void
}

/** The breaker with its probe timer: what connection.ts asks before each call and tells after it. */
export interface Breaker {
  /** the generation to report a failure with, or undefined: answer locally without touching Redis */
  admit (): number | undefined
  /** feeds an event; true when it changed the state */
  report (event: BreakerEvent): boolean
  state (): BreakerState
  /** cancels the probe timer; later events are ignored */
  stop (): void
}

const monotonicNow = (): number => performance.now()

/** Unref'd, so a pending probe never keeps the process alive. */
function realSchedule (fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms)
  timer.unref()
  return () => { clearTimeout(timer) }
}

/** Drives the pure state machine of breaker.ts with a real (or injected) clock, timer and probe. */
export function createBreaker (options: BreakerDriverOptions): Breaker {
  const now = options.now ?? monotonicNow
  const random = options.random ?? Math.random
  const schedule = options.schedule ?? realSchedule
  let cancel: (() => void) | undefined
  let stopped = false
  const first = initialState(now(), now() + probeDelay(options.intervalMs, random()))
  let state: BreakerState = first
  arm(first.probeAt)

  function arm (probeAt: number): void {
    cancel?.()
    cancel = schedule(function probeDue () {
      cancel = undefined
      report({ type: 'probe_due' })
    }, Math.max(0, probeAt - now()))
  }

  function runProbe (): void {
    options.probe().then(() => report({ type: 'probe_ok' }), () => report({ type: 'probe_failed' }))
  }

  function report (event: BreakerEvent): boolean {
    if (stopped) return false
    const before = state
    const after = nextState(before, event, now(), probeDelay(options.intervalMs, random()))
    if (after === before) return false
    state = after
    if (after.kind === 'open') arm(after.probeAt)
    else {
      cancel?.()
      cancel = undefined
    }
    if (after.kind === 'probing') runProbe()
    options.onChange?.(before, after, event)
    return true
  }

  return {
    admit: () => (state.kind === 'closed' ? state.generation : undefined),
    report,
    state: () => state,
    stop () {
      stopped = true
      cancel?.()
      cancel = undefined
    }
  }
}
