import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'

/** Counts failed client authentications by key (client, source address) in fixed windows. */
export interface GuessLimiter {
  /** seconds until `key` may try again, or undefined when it may try now */
  blockedFor (key: string): number | undefined
  /** one more failure for `key`; returns the failures counted in its window so far */
  fail (key: string): number
}

export interface GuessLimitOptions {
  readonly maxFailures: number
  readonly windowMs: number
  /** ms since the epoch; injectable so tests need no waiting */
  now (): number
  /** keys remembered (least recently used are forgotten) */
  readonly maxKeys?: number
}

/**
 * Guessing is expensive: after `maxFailures` failures in a window, every attempt for that key (even
 * with the right secret) is refused until the window ends. Keys name a source address (or a client at
 * an address), never a client alone: a client is not locked out by others. Memory is bounded by `maxKeys`.
 */
export function createGuessLimiter (options: GuessLimitOptions): GuessLimiter {
  const windows = new LRUCache<string, { failures: number, endsAt: number }>(upTo(options.maxKeys ?? 50_000))
  const current = (key: string): { failures: number, endsAt: number } | undefined => {
    const w = windows.get(key)
    return w !== undefined && w.endsAt > options.now() ? w : undefined
  }
  return {
    blockedFor (key) {
      const w = current(key)
      if (w === undefined || w.failures < options.maxFailures) return undefined
      return Math.max(1, Math.ceil((w.endsAt - options.now()) / 1000))
    },
    fail (key) {
      const w = current(key)
      if (w === undefined) {
        windows.set(key, { failures: 1, endsAt: options.now() + options.windowMs })
        return 1
      }
      return ++w.failures
    }
  }
}
