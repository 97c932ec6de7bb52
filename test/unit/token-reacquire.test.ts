import t from 'tap'
import { createTokenProvider } from '../../src/tokens/token-provider.js'
import type { TokenProviderOptions } from '../../src/tokens/token-provider.js'
import { failure, fakeClock, fakeSource, held, msalError, RESOURCE } from './token-fakes.js'

// Issue 13 item 5: one re-acquisition per tenant per cool-down window, shared by everyone who asks in it.
const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const COOL = 30_000

function setup (extra: Partial<TokenProviderOptions> = {}) {
  const clock = fakeClock()
  const source = fakeSource(clock)
  const outcomes: string[] = []
  const provider = createTokenProvider({
    source,
    resource: RESOURCE,
    reacquireCooldownMs: COOL,
    skewMs: 300_000,
    maxTenants: 10,
    backoff: { initialMs: 0, maxMs: 0 },
    events: { hit () {}, acquired () {}, failed () {}, reacquire: (_t, outcome) => outcomes.push(outcome) },
    now: () => clock.now,
    schedule: clock.schedule,
    random: () => 0,
    ...extra
  })
  return { clock, source, provider, outcomes }
}

t.test('regression: a 401 storm and repeated forced refreshes cost one token request per cool-down window', async (t) => {
  const { clock, source, provider, outcomes } = setup()
  const first = await provider.get(A, 'r')
  const slow = held()
  source.next.push(slow.answer)
  // N requests whose token Defender rejected, and M operator refreshes, while the re-acquisition is out.
  const storm = Array.from({ length: 40 }, async () => await provider.refresh(A, 'replay'))
  slow.release()
  const tokens = await Promise.all(storm)
  t.equal(new Set(tokens).size, 1, 'every caller got the one new token')
  t.not(tokens[0], first)
  t.equal(source.calls.length, 2, 'one re-acquisition')
  // Defender rejects the new token too: each request purges it; later requests and refreshes in the window ask nobody.
  provider.purge(A)
  for (let i = 0; i < 40; i++) {
    const refused = await failure(provider.get(A, `late-${i}`))
    t.match(refused, { kind: 'transient', message: /rejected the new token/ })
    t.ok((refused.retryAfterSeconds ?? 0) >= 1 && (refused.retryAfterSeconds ?? 0) <= 30, 'told when to come back')
    await failure(provider.refresh(A, `admin-${i}`))
  }
  t.equal(source.calls.length, 2, 'still one re-acquisition after 40 requests and 40 refreshes')
  t.equal(provider.reacquireWaitMs(A), COOL)
  t.equal((await provider.get(B, 'r')).tid, B, 'other tenants are not held back')
  clock.now += COOL - 1
  await failure(provider.get(A, 'r'))
  t.equal(source.calls.filter((c) => c === A).length, 2, 'not one ms early')
  clock.now += 1
  t.equal(provider.reacquireWaitMs(A), 0)
  t.equal((await provider.get(A, 'r')).tid, A, 'the next window asks again')
  t.equal(source.calls.filter((c) => c === A).length, 3)
  t.equal(outcomes.filter((o) => o === 'started').length, 2)
  t.equal(outcomes.filter((o) => o === 'shared').length, 39 + 80 + 1)
})

t.test('inside a window a forced refresh shares the window\'s token while it is still cached', async (t) => {
  const { source, provider } = setup()
  await provider.get(A, 'r')
  const renewed = await provider.refresh(A, 'admin-1')
  t.equal(await provider.refresh(A, 'admin-2'), renewed)
  t.equal(await provider.get(A, 'r'), renewed)
  t.equal(source.calls.length, 2)
})

t.test('a window whose re-acquisition failed shares the failure; backoff and refusals still apply outside windows', async (t) => {
  const { clock, source, provider } = setup({ backoff: { initialMs: 120_000, maxMs: 120_000 } })
  await provider.get(A, 'r')
  source.next.push(msalError(503))
  const all = await Promise.all([failure(provider.refresh(A, 'a')), failure(provider.refresh(A, 'b'))])
  t.same(all.map((f) => f.kind), ['transient', 'transient'])
  t.match(await failure(provider.refresh(A, 'c')), { kind: 'transient' }, 'the window\'s failure')
  t.equal(source.calls.length, 2)
  clock.now += COOL
  t.match(await failure(provider.refresh(A, 'd')), { kind: 'transient' }, 'window over, backoff not: refused fast')
  t.equal(source.calls.length, 2)
})

t.test('cool-down 0: concurrent callers still share one flight, sequential ones each ask', async (t) => {
  const { source, provider } = setup({ reacquireCooldownMs: 0 })
  await provider.get(A, 'r')
  await Promise.all([provider.refresh(A, 'a'), provider.refresh(A, 'b')])
  t.equal(source.calls.length, 2)
  await provider.refresh(A, 'c')
  provider.purge(A)
  await provider.get(A, 'd')
  t.equal(source.calls.length, 4)
  t.equal(provider.reacquireWaitMs(A), 0)
})
