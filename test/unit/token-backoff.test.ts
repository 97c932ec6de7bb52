import t from 'tap'
import { backoffDelay, createBackoff, parseRetryAfter, RETRY_AFTER_CAP_MS } from '../../src/tokens/backoff.js'
import { DEFAULT_REFRESH, realSchedule, refreshAt } from '../../src/tokens/refresh.js'
import { TokenError } from '../../src/tokens/types.js'

const POLICY = { initialMs: 1000, maxMs: 8000 }
const MIN = 60_000

t.test('backoff doubles per failure up to the maximum, with equal jitter', async (t) => {
  const rows: Array<[failures: number, random: number, expected: number]> = [
    [1, 0, 500], [1, 1, 1000], [2, 0, 1000], [3, 0.5, 3000], [4, 1, 8000], [10, 1, 8000], [10, 0, 4000]
  ]
  for (const [failures, random, expected] of rows) {
    t.equal(backoffDelay(failures, POLICY, () => random), expected, `failure ${failures}, random ${random}`)
  }
  t.equal(backoffDelay(1, { initialMs: 0, maxMs: 0 }, () => 1), 0, 'initialMs 0: no backoff of our own')
})

t.test('Retry-After is a floor, capped at an hour', async (t) => {
  t.equal(backoffDelay(1, POLICY, () => 0, 30), 30_000)
  t.equal(backoffDelay(4, POLICY, () => 1, 2), 8000, 'a shorter Retry-After does not shorten the backoff')
  t.equal(backoffDelay(1, POLICY, () => 0, 999_999), RETRY_AFTER_CAP_MS)
})

t.test('Retry-After header values', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z')
  const rows: Array<[string | undefined, number | undefined]> = [
    [undefined, undefined], ['', undefined], ['  ', undefined], ['7', 7], [' 120 ', 120],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30], ['Wed, 31 Dec 2025 23:00:00 GMT', 0], ['soon', undefined], ['-5', undefined]
  ]
  for (const [value, expected] of rows) t.equal(parseRetryAfter(value, now), expected, String(value))
})

t.test('tenant backoff memory: blocked until the wait ends, hint counts down, reset forgets', async (t) => {
  let now = 0
  const backoff = createBackoff(POLICY, 10, () => now, () => 1)
  const err = new TokenError('transient', 'boom')
  t.equal(backoff.blocked('a'), undefined)
  t.equal(backoff.until('a'), 0)
  const hinted = backoff.fail('a', err)
  t.equal(hinted.retryAfterSeconds, 1)
  t.equal(backoff.until('a'), 1000)
  now = 400
  t.equal(backoff.blocked('a')?.retryAfterSeconds, 1, 'at least 1 s')
  t.equal(backoff.blocked('a')?.message, 'boom')
  t.equal(backoff.fail('a', err).retryAfterSeconds, 2)
  now = 2400
  t.equal(backoff.blocked('a'), undefined, 'over')
  backoff.reset('a')
  t.equal(backoff.fail('a', err).retryAfterSeconds, 1, 'counting starts again after a reset')
  t.equal(backoff.fail('b', err.withRetryAfter(90)).retryAfterSeconds, 90, 'Entra\'s hint kept')
})

t.test('renewal point: 10 minutes or a sixth of the usable life before its end, never more than half', async (t) => {
  const at = (lifetimeMs: number, skewMs: number, random = 0): number => refreshAt(0, lifetimeMs, skewMs, DEFAULT_REFRESH, () => random)
  t.equal(at(60 * MIN, 5 * MIN), 45 * MIN, '1 h token, 5 min skew: 10 min before minute 55')
  t.equal(at(24 * 60 * MIN, 0), 20 * 60 * MIN, '24 h token: a sixth (4 h) before its end')
  t.equal(at(10 * MIN, 2 * MIN), 4 * MIN, 'short token: half its usable life')
  t.equal(at(60 * MIN, 5 * MIN, 1), 45 * MIN - 2.5 * MIN, 'jitter moves it earlier by up to a quarter of the lead')
  t.equal(refreshAt(100, 50, 10, DEFAULT_REFRESH, () => 0), 100, 'already unusable: due now')
})

t.test('real timers are unref\'d and can be cancelled', async (t) => {
  let ran = false
  const cancel = realSchedule(() => { ran = true }, 5)
  cancel()
  let other = false
  realSchedule(() => { other = true }, 5)
  // The timers are unref'd, so a ref'd one keeps the test alive while they fall due.
  await new Promise<void>((resolve) => setTimeout(resolve, 30))
  t.ok(other)
  t.notOk(ran)
})
