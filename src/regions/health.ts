/** What the gateway knows about one regional Defender host at a moment. */
export interface RegionHealth {
  /** smoothed round-trip time in ms; undefined until the first answer */
  readonly rttMs: number | undefined
  /** consecutive failures (connect error, timeout, 5xx) */
  readonly failures: number
  /** epoch ms until which the region is out of rotation */
  readonly downUntil: number
}

export const INITIAL_HEALTH: RegionHealth = { rttMs: undefined, failures: 0, downUntil: 0 }

/** weight of a new RTT sample in the moving average: smooth enough to ignore one slow answer */
const ALPHA = 0.3
const BACKOFF_BASE_MS = 1_000
const BACKOFF_MAX_MS = 60_000

/** An answer arrived (any HTTP status below 500): the region is up; fold the RTT into the average. */
export function recordSuccess (h: RegionHealth, rttMs: number): RegionHealth {
  const rtt = h.rttMs === undefined ? rttMs : h.rttMs + ALPHA * (rttMs - h.rttMs)
  return { rttMs: rtt, failures: 0, downUntil: 0 }
}

/**
 * Real traffic includes Defender's own processing time, so it only ever lowers the estimate: a fast
 * answer proves the path is fast, a slow one may just be a slow query.
 */
export function recordPassive (h: RegionHealth, upstreamMs: number): RegionHealth {
  // An answer puts the region back in rotation. Unchanged health is returned as is: the caller then
  // skips its update (this runs on every request).
  if (h.rttMs !== undefined && upstreamMs >= h.rttMs) return h.failures === 0 && h.downUntil === 0 ? h : { ...h, failures: 0, downUntil: 0 }
  return recordSuccess(h, upstreamMs)
}

/** A failure takes the region out for an exponentially growing, jittered time (1 s, 2 s, 4 s ... 60 s). */
export function recordFailure (h: RegionHealth, now: number, random: () => number = Math.random): RegionHealth {
  const failures = h.failures + 1
  const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1))
  return { ...h, failures, downUntil: now + backoff * (0.8 + 0.4 * random()) }
}

/** In rotation: never failed, or its backoff has run out (a probe or a request may try it again). */
export function isAvailable (h: RegionHealth, now: number): boolean {
  return h.downUntil <= now
}
