import t from 'tap'
import { createTokenProvider, type TokenEvents } from '../../src/tokens/token-provider.js'
import type { TokenProviderOptions } from '../../src/tokens/token-provider.js'
import { failure, fakeClock, fakeSource, held, jwt, msalError, RESOURCE, settle, tokenError } from './token-fakes.js'

// Token lifecycle against a fake clock: refresh-ahead, idle tenants, stale-if-error, backoff, refresh().
const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const C = '33333333-3333-4333-8333-333333333333'
const MIN = 60_000

function setup (extra: Partial<TokenProviderOptions> = {}) {
  const clock = fakeClock()
  const source = fakeSource(clock)
  const seen: string[] = []
  const events: Required<TokenEvents> = {
    hit: () => seen.push('hit'),
    acquired: (_t, _s, background) => seen.push(background ? 'refreshed' : 'acquired'),
    failed: (_t, kind, _s, _m, background) => seen.push(`${background ? 'refresh-failed' : 'failed'}:${kind}`),
    servedStale: () => seen.push('stale'),
    backedOff: (_t, kind) => seen.push(`backed-off:${kind}`),
    idle: () => seen.push('idle'),
    shared: (_t, background) => seen.push(background ? 'refreshed-shared' : 'shared'),
    mismatch: (d, background) => seen.push(`${background ? 'refresh-' : ''}mismatch:${d.reason}`),
    reacquire: (_t, outcome) => seen.push(`reacquire:${outcome}`)
  }
  const provider = createTokenProvider({
    source,
    resource: RESOURCE,
    skewMs: 5 * MIN,
    maxTenants: 10,
    events,
    now: () => clock.now,
    schedule: clock.schedule,
    random: () => 0,
    ...extra
  })
  return { clock, source, seen, provider }
}

t.test('a tenant in use is renewed in the background before its token runs out; requests never wait', async (t) => {
  const { clock, source, seen, provider } = setup()
  const first = await provider.get(A, 'r1')
  t.equal(clock.pending(), 1, 'one renewal timer')
  // 1 h token, 5 min skew: usable 55 min, renewed when 10 min of that are left (random() = 0: no jitter).
  await clock.advance(44 * MIN)
  t.equal(await provider.get(A, 'r2'), first, 'in use before the renewal point')
  t.equal(source.calls.length, 1)
  await clock.advance(1 * MIN)
  t.equal(source.calls.length, 2, 'renewed at 45 min')
  const renewed = await provider.get(A, 'r3')
  t.not(renewed, first, 'the next request gets the new token')
  t.same(seen, ['acquired', 'hit', 'refreshed', 'hit'])
})

t.test('a renewal in flight does not hold up requests; they keep the old token', async (t) => {
  const { clock, source, provider } = setup()
  const first = await provider.get(A, 'r')
  await provider.get(A, 'r')
  const slow = held()
  source.next.push(slow.answer)
  await clock.advance(45 * MIN)
  t.equal(source.calls.length, 2, 'renewal started')
  const during = await Promise.all(Array.from({ length: 20 }, async () => await provider.get(A, 'r')))
  t.ok(during.every((tok) => tok === first), 'served at once with the old token')
  t.equal(source.calls.length, 2, 'no second renewal')
  slow.release()
  await settle()
  t.not(await provider.get(A, 'r'), first)
})

t.test('an idle tenant is not renewed; its next request renews it in the background while the token is valid', async (t) => {
  const { clock, source, seen, provider } = setup()
  const first = await provider.get(A, 'r')
  await clock.advance(45 * MIN)
  t.equal(source.calls.length, 1, 'nobody asked since the token was acquired: no renewal')
  t.ok(seen.includes('idle'))
  t.equal(await provider.get(A, 'r'), first, 'a late request still gets the valid token at once')
  await settle()
  t.equal(source.calls.length, 2, '... and starts the renewal')
  await clock.advance(60 * MIN)
  t.equal(source.calls.length, 2, 'idle again: the renewed token is left to run out')
  await provider.get(A, 'r')
  t.equal(source.calls.length, 3, 'an expired token is acquired on the request')
})

t.test('stale-if-error: a failing renewal keeps serving the old token, retried with backoff, never past expiry minus skew', async (t) => {
  const { clock, source, seen, provider } = setup({ backoff: { initialMs: 2 * MIN, maxMs: 4 * MIN } })
  const first = await provider.get(A, 'r')
  await provider.get(A, 'r')
  source.next.push(msalError(503), msalError(429), ...Array.from({ length: 10 }, () => msalError(503)))
  await clock.advance(45 * MIN)
  t.equal(source.calls.length, 2, 'renewal tried at 45 min and failed')
  t.equal(await provider.get(A, 'r'), first, 'old token still served')
  t.ok(seen.includes('stale'))
  await clock.advance(1 * MIN - 1)
  t.equal(source.calls.length, 2, 'no retry inside the backoff (2 min, jitter at its low end: 1 min)')
  await clock.advance(1)
  t.equal(source.calls.length, 3, 'retried when the backoff ended, because the tenant is in use')
  await provider.get(A, 'r')
  await clock.advance(2 * MIN - 1)
  t.equal(source.calls.length, 3, 'second wait is doubled')
  await clock.advance(1)
  t.equal(source.calls.length, 4)
  t.equal(await provider.get(A, 'r'), first, 'at 48 min the old token is still served')
  await clock.advance(7 * MIN - 1)
  t.equal(await provider.get(A, 'r'), first, 'up to the last ms before expiry minus skew')
  await clock.advance(1)
  const late = await failure(provider.get(A, 'r'))
  t.equal(late.kind, 'transient', 'past expiry minus skew: never served; the tenant is still backing off')
  t.ok((late.retryAfterSeconds ?? 0) >= 1)
  t.ok(seen.includes('backed-off:transient'))
})

t.test('after a transient failure a tenant fails fast with Retry-After, other tenants are untouched', async (t) => {
  const { clock, source, provider } = setup({ backoff: { initialMs: 10_000, maxMs: 40_000 } })
  source.next.push(msalError(503))
  t.match(await failure(provider.get(A, 'r')), { kind: 'transient', retryAfterSeconds: 5 })
  t.match(await failure(provider.get(A, 'r')), { kind: 'transient', retryAfterSeconds: 5 }, 'fast: no call')
  t.equal(source.calls.length, 1)
  await provider.get(B, 'r')
  t.equal(source.calls.length, 2, 'tenant B asks Entra as usual')
  await clock.advance(5_000)
  source.next.push(tokenError('transient'))
  await failure(provider.get(A, 'r'))
  t.match(await failure(provider.get(A, 'r')), { retryAfterSeconds: 10 }, 'second failure doubles the wait')
  await clock.advance(10_000)
  await provider.get(A, 'r')
  t.equal(source.calls.length, 4, 'recovers when the backoff is over')
  source.next.push(tokenError('transient'))
  provider.purge(A)
  await failure(provider.get(A, 'r'))
  t.match(await failure(provider.get(A, 'r')), { retryAfterSeconds: 5 }, 'a success resets the backoff')
})

t.test('Entra\'s Retry-After is honoured when longer than the backoff', async (t) => {
  const { clock, source, provider } = setup()
  source.next.push(tokenError('transient', 120))
  t.match(await failure(provider.get(A, 'r')), { retryAfterSeconds: 120 })
  await clock.advance(119_000)
  t.match(await failure(provider.get(A, 'r')), { retryAfterSeconds: 1 })
  await clock.advance(1000)
  await provider.get(A, 'r')
  t.equal(source.calls.length, 2)
})

t.test('a bad credential backs off too and is reported as such', async (t) => {
  const { seen, source, provider } = setup()
  source.next.push(msalError(401, 7000215))
  t.match(await failure(provider.get(A, 'r')), { kind: 'bad-credential', aadsts: 7000215 })
  t.match(await failure(provider.get(A, 'r')), { kind: 'bad-credential' })
  t.equal(source.calls.length, 1)
  t.same(seen, ['failed:bad-credential', 'backed-off:bad-credential'])
})

t.test('one tenant\'s hanging token request never holds up another tenant', async (t) => {
  const { source, provider } = setup()
  const hang = held()
  source.next.push(hang.answer)
  let settled = false
  const waiting = provider.get(A, 'r').finally(() => { settled = true })
  const others = await Promise.all([provider.get(B, 'r'), provider.get(C, 'r'), provider.get(B, 'r')])
  t.same(others.map((tok) => tok.tid), [B, C, B])
  t.notOk(settled, 'A is still waiting')
  hang.release()
  t.equal((await waiting).tid, A)
})

t.test('consent revoked during a renewal: the old token is dropped and the refusal remembered', async (t) => {
  const { clock, source, provider } = setup()
  await provider.get(A, 'r')
  await provider.get(A, 'r')
  source.next.push(msalError(400, 700016, 'unauthorized_client'))
  await clock.advance(45 * MIN)
  t.match(await failure(provider.get(A, 'r')), { kind: 'not-onboarded' })
  t.equal(source.calls.length, 2)
})

t.test('refresh() replaces a cached token once, shared by concurrent callers', async (t) => {
  const { source, provider } = setup()
  const first = await provider.get(A, 'r')
  const [x, y] = await Promise.all([provider.refresh(A, 'r'), provider.refresh(A, 'r')])
  t.equal(x, y)
  t.not(x, first)
  t.equal(source.calls.length, 2, 'one acquisition for both')
  t.equal(await provider.get(A, 'r'), x, 'the cache holds the new token')
  provider.purge(A)
  await provider.get(A, 'r')
  t.equal(source.calls.length, 3, 'purge + get acquires')
  source.next.push(msalError(503))
  await failure(provider.refresh(A, 'r'))
  t.match(await failure(provider.refresh(A, 'r')), { kind: 'transient' }, 'refused fast while backing off')
  t.equal(source.calls.length, 4)
  source.next.push(msalError(400, 700016, 'unauthorized_client'))
  await failure(provider.refresh(B, 'r'))
  t.match(await failure(provider.refresh(B, 'r')), { kind: 'not-onboarded' }, 'remembered refusal')
})

t.test('the LRU bounds tenants: an evicted tenant is forgotten by the source and acquired again', async (t) => {
  const { clock, source, provider } = setup({ maxTenants: 2 })
  await provider.get(A, 'r')
  await provider.get(B, 'r')
  await provider.get(C, 'r')
  t.same(source.forgotten, [A], 'the least recently used tenant went, with its msal client')
  t.equal(clock.pending(), 2, 'its renewal timer was cancelled')
  await provider.get(A, 'r')
  t.equal(source.calls.filter((c) => c === A).length, 2)
})

t.test('refresh-ahead off: no timers, a token is renewed on the request after the skew', async (t) => {
  const { clock, source, provider } = setup({ refresh: false })
  await provider.get(A, 'r')
  t.equal(clock.pending(), 0)
  clock.now += 55 * MIN
  await provider.get(A, 'r')
  t.equal(source.calls.length, 2)
})

t.test('close cancels timers, closes the source, and a late answer is not cached', async (t) => {
  const { clock, source, provider } = setup()
  await provider.get(A, 'r')
  const slow = held()
  source.next.push(slow.answer)
  const pending = provider.get(B, 'r')
  provider.close()
  t.equal(clock.pending(), 0)
  t.ok(source.closed)
  slow.release({ accessToken: jwt({ tid: B }), expiresOn: clock.now + 3600_000 })
  t.equal((await pending).tid, B, 'the waiting request still gets its answer')
  t.equal(clock.pending(), 0, 'nothing scheduled after close')
})

t.test('a renewal due while the tenant backs off waits for the backoff to end', async (t) => {
  const { clock, source, provider } = setup({ backoff: { initialMs: 24 * MIN, maxMs: 24 * MIN } })
  const first = await provider.get(A, 'r')
  await provider.get(A, 'r')
  source.next.push(msalError(503))
  await clock.advance(45 * MIN)
  t.equal(source.calls.length, 2)
  t.equal(await provider.get(A, 'r'), first)
  await clock.advance(9 * MIN)
  t.equal(source.calls.length, 2, 'backoff (12 min) outlasts the token: no retry')
  t.equal(await provider.get(A, 'r'), first)
  await clock.advance(1 * MIN)
  t.match(await failure(provider.get(A, 'r')), { kind: 'transient' }, 'token past its usable end, tenant still backing off')
  await clock.advance(3 * MIN)
  t.equal(source.calls.length, 2, 'the retry timer finds the token unusable and leaves it to the next request')
})

t.test('without events or injected time the provider still works (real timers, no reports)', async (t) => {
  const source = fakeSource({ now: Date.now() })
  const provider = createTokenProvider({ source, resource: RESOURCE, skewMs: 0, maxTenants: 2 })
  source.next.push(msalError(503))
  await failure(provider.get(A, 'r'))
  await provider.get(B, 'r')
  await provider.get(B, 'r')
  provider.close()
  t.equal(source.calls.length, 2)
})
