import t from 'tap'
import { drainWhileHeld } from '../drain-helper.js'

/**
 * Regression (issue 13, item 6): SIGTERM with requests in flight must lose none, in a cluster as in the
 * single process (the same test for both: test/drain-helper.ts).
 */

// Starts gateway processes (each compiles the sources with tsx): on a busy 2-CPU machine that alone can
// take most of tap's default 120 s, so this file gets a wider bound (a bound, not a measured speed).
t.setTimeout(300_000)

t.test('SIGTERM with requests in flight: a 2-worker cluster completes every one, then exits 0', async (t) => {
  await drainWhileHeld(t, 2)
})
