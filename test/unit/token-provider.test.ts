import t from 'tap'
import { createTokenProvider, type TokenEvents } from '../../src/tokens/token-provider.js'
import { TokenError } from '../../src/tokens/types.js'
import { failure, fakeClock, fakeSource, jwt, RESOURCE } from './token-fakes.js'

const TENANT = '11111111-1111-4111-8111-111111111111'
const OTHER = '22222222-2222-4222-8222-222222222222'

function setup (negativeTtlMs?: number) {
  const clock = fakeClock()
  const source = fakeSource(clock)
  const seen: string[] = []
  const events: TokenEvents = {
    hit: () => seen.push('hit'),
    acquired: () => seen.push('acquired'),
    failed: (_t, kind) => seen.push(`failed:${kind}`)
  }
  const provider = createTokenProvider({ source, resource: RESOURCE, skewMs: 300_000, maxTenants: 10, negativeTtlMs, events, now: () => clock.now, schedule: clock.schedule, random: () => 0.5 })
  return { clock, source, seen, provider }
}

t.test('a miss acquires, later calls hit the cache with no I/O', async (t) => {
  const { source, seen, provider } = setup()
  const first = await provider.get(TENANT, 'r1')
  t.equal(first.tid, TENANT)
  t.ok(first.roles.has('alert.read.all'), 'roles are lowercased')
  const second = await provider.get(TENANT, 'r2')
  t.equal(second, first)
  t.same(source.calls, [TENANT])
  t.same(seen, ['acquired', 'hit'])
})

t.test('concurrent misses for one tenant share one acquisition; other tenants get their own', async (t) => {
  const { source, provider } = setup()
  const results = await Promise.all([
    ...Array.from({ length: 50 }, async () => await provider.get(TENANT, 'r')),
    provider.get(OTHER, 'r')
  ])
  t.same(source.calls.sort(), [TENANT, OTHER].sort())
  t.equal(new Set(results.slice(0, 50)).size, 1)
})

t.test('a token is renewed once less than the skew is left', async (t) => {
  const { clock, source, provider } = setup()
  await provider.get(TENANT, 'r')
  clock.now += 3600_000 - 300_000 - 1
  await provider.get(TENANT, 'r')
  t.equal(source.calls.length, 1, 'still fresh one ms before the skew')
  clock.now += 2
  await provider.get(TENANT, 'r')
  t.equal(source.calls.length, 2, 'renewed inside the skew')
})

t.test('purge drops a tenant\'s token', async (t) => {
  const { source, provider } = setup()
  await provider.get(TENANT, 'r')
  provider.purge(TENANT)
  await provider.get(TENANT, 'r')
  t.equal(source.calls.length, 2)
})

t.test('failures are classified; a not-onboarded answer is remembered, others are not', async (t) => {
  const { clock, source, seen, provider } = setup(30_000)
  source.next.push(async () => { throw Object.assign(new Error('AADSTS700016: app not found'), { errorCode: 'unauthorized_client', errorNo: '700016' }) })
  t.match(await failure(provider.get(TENANT, 'r')), { kind: 'not-onboarded', aadsts: 700016 })
  t.match(await failure(provider.get(TENANT, 'r')), { kind: 'not-onboarded' })
  t.equal(source.calls.length, 1, 'second refusal came from memory')
  clock.now += 30_001
  await provider.get(TENANT, 'r')
  t.equal(source.calls.length, 2, 'asked again once the memory expired')
  source.next.push(async () => { throw Object.assign(new Error('boom'), { errorCode: 'server_error', status: 503 }) })
  t.match(await failure(provider.get(OTHER, 'r')), { kind: 'transient' })
  t.match(await failure(provider.get(OTHER, 'r')), { kind: 'transient', retryAfterSeconds: 1 }, 'fails fast while backing off')
  clock.now += 1000
  await provider.get(OTHER, 'r')
  t.equal(source.calls.filter((c) => c === OTHER).length, 2, 'a transient failure is retried once the backoff is over')
  t.same(seen.filter((s) => s.startsWith('failed')), ['failed:not-onboarded', 'failed:transient'])
  t.equal(source.calls.length, 4)
})

t.test('unusable tokens are invalid-response failures', async (t) => {
  const { clock, source, provider } = setup()
  source.next.push(async () => ({ accessToken: '', expiresOn: Date.now() + 3600_000 }))
  t.match(await failure(provider.get(TENANT, 'r')), { kind: 'invalid-response' })
  clock.now += 60_000
  source.next.push(async () => ({ accessToken: 'a.%%%.c', expiresOn: Date.now() + 3600_000 }))
  t.match(await failure(provider.get(TENANT, 'r')), { kind: 'invalid-response' })
  clock.now += 60_000
  source.next.push(async () => ({ accessToken: jwt({ roles: 'not-a-list' }), expiresOn: Date.now() + 3600_000 }))
  t.match(await failure(provider.get(TENANT, 'r')), { kind: 'wrong-token' }, 'a token without tid never matches a tenant')
  clock.now += 60_000
  source.next.push(async () => ({ accessToken: jwt({ tid: TENANT, roles: 'not-a-list' }), expiresOn: Date.now() + 3600_000 }))
  t.equal((await provider.get(TENANT, 'r')).roles.size, 0, 'roles that are not a list grant nothing')
})

t.test('a TokenError thrown by the source keeps its class', async (t) => {
  const { source, provider } = setup()
  source.next.push(async () => { throw new TokenError('bad-credential', 'nope', 7000215) })
  t.match(await failure(provider.get(TENANT, 'r')), { kind: 'bad-credential', message: 'nope' })
})
