import type { Clock } from '../src/limits/take-loop.js'

/** A clock that only moves when told to, or when someone sleeps on it (sleeping advances it). */
export interface FakeClock extends Clock {
  advance (ms: number): void
  readonly sleeps: number[]
}

/** Starts at `start` ms; each sleep advances time by its duration at once. */
export function fakeClock (start = 1_000_000): FakeClock {
  let now = start
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => now,
    async sleep (ms) {
      sleeps.push(ms)
      now += ms
    },
    advance (ms) { now += ms }
  }
}
