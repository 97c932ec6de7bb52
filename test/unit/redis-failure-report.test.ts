import t from 'tap'
import { classifyRedisFailure, FailureReporter } from '../../src/redis/failure-report.js'

const err = (message: string, code?: string): Error & { code?: string } => Object.assign(new Error(message), code === undefined ? {} : { code })

t.test('each failure class an operator acts on, from what ioredis and node report', async (t) => {
  const rows: Array<[Error, string]> = [
    [err('WRONGPASS invalid username-password pair or user is disabled.'), 'auth'],
    [err('NOAUTH Authentication required.'), 'auth'],
    [err('All sentinels are unreachable. Retrying from scratch after 10ms. Last error: NOAUTH Authentication required.'), 'auth'],
    [err('connect ECONNREFUSED 127.0.0.1:6390', 'ECONNREFUSED'), 'refused'],
    [err('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), 'tls'],
    [err('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tls'],
    [err('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET'), 'tls'],
    [err('connect ETIMEDOUT', 'ETIMEDOUT'), 'timeout'],
    [err('getaddrinfo ENOTFOUND redis.internal', 'ENOTFOUND'), 'dns'],
    [err('something else'), 'other']
  ]
  for (const [e, expected] of rows) t.equal(classifyRedisFailure(e), expected, e.message)
})

t.test('warnings at a bounded rate: the first at once, one per interval while it lasts, a new class at once', async (t) => {
  let now = 0
  const reporter = new FailureReporter(60_000, () => now)
  const auth = err('WRONGPASS invalid username-password pair')
  t.same(reporter.note(auth), { failure: 'auth', code: undefined, failures: 1 }, 'the first failure is reported at once')
  for (let i = 0; i < 29; i++) { now += 2000; t.equal(reporter.note(auth), undefined) }
  now += 2000
  t.same(reporter.note(auth), { failure: 'auth', code: undefined, failures: 30 }, 'one line a minute, counting what it stands for')
  now += 1
  t.same(reporter.note(err('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED')), { failure: 'refused', code: 'ECONNREFUSED', failures: 1 }, 'a new class is news')
  reporter.ok()
  now += 1
  t.same(reporter.note(auth), { failure: 'auth', code: undefined, failures: 1 }, 'a new episode after a connection starts over')
  t.equal(reporter.note(err('x', 'has a space; not a code'))?.code, undefined, 'only a plain error code is logged')
})
