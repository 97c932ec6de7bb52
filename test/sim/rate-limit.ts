/** Per-tenant sliding-window limiter: `take` returns 0 when allowed, else the seconds until a slot frees. */
export interface RateLimiter { take (tenant: string): number, setRate (n: number): void, clear (): void }

const WINDOW_MS = 60_000

/** Creates a limiter allowing `perMinute` requests per tenant in any sliding 60 s window. */
export function createRateLimiter (perMinute: number): RateLimiter {
  let rate = perMinute
  const windows = new Map<string, number[]>()
  return {
    take (tenant) {
      const now = Date.now()
      const hits = (windows.get(tenant) ?? []).filter(t => t > now - WINDOW_MS)
      windows.set(tenant, hits)
      if (hits.length >= rate) {
        const oldest = hits[Math.max(0, hits.length - rate)] ?? now
        return Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000))
      }
      hits.push(now)
      return 0
    },
    setRate (n) { rate = n },
    clear () { windows.clear() }
  }
}
