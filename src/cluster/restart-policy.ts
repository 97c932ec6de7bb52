/** How fast a cluster replaces workers that exit unexpectedly, and when it stops trying. */
export interface RestartPolicy {
  readonly baseMs: number
  readonly maxMs: number
  /** consecutive exits, with no worker getting to listen in between, after which the primary gives up */
  readonly maxStreak: number
}

/** 250 ms, doubling to 8 s; the seventh failure in a row (about 16 s of trying) stops the gateway. */
export const RESTART_POLICY: RestartPolicy = { baseMs: 250, maxMs: 8_000, maxStreak: 6 }

/**
 * The wait before starting a replacement after the `streak`-th consecutive unexpected exit; undefined:
 * give up, so the supervisor (systemd, Kubernetes) sees a failed gateway instead of a crash loop that
 * looks alive. A worker that crashes now and then after serving keeps a streak of 1: restarted fast.
 */
export function restartDelay (streak: number, policy: RestartPolicy = RESTART_POLICY): number | undefined {
  if (streak > policy.maxStreak) return undefined
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, streak - 1))
}
