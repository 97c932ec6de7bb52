import { pino } from 'pino'
import t from 'tap'
import { buildFromObject } from '../../src/config/load.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createTokenProvider, type TokenEvents, type TokenProviderOptions } from '../../src/tokens/token-provider.js'
import type { AcquiredToken, SharedTokenStore } from '../../src/tokens/types.js'
import { createGatewayTokens } from '../../src/tokens/wiring.js'
import { fakeClock, fakeSource, held, jwt, RESOURCE, type FakeClock, type FakeSource } from './token-fakes.js'

// The provider with a second-level token cache shared by replicas (Redis in production, a map here).
const A = '11111111-1111-4111-8111-111111111111'
const MIN = 60_000
const SKEW = 5 * MIN
const WAIT = { lockMs: 10_000, pollMs: 1, maxWaitMs: 20 }

/** What replicas share: tokens (served as stored, so the provider's own expiry check is what counts) and locks. */
interface FakeStore extends SharedTokenStore {
  readonly tokens: Map<string, AcquiredToken>
  readonly locks: Set<string>
  readonly calls: string[]
  /** runs when `lock` is granted (another replica publishing just before the holder looks again) */
  onLock?: (tenantId: string) => void
}

function fakeStore (): FakeStore {
  const store: FakeStore = {
    tokens: new Map(),
    locks: new Set(),
    calls: [],
    async get (tenantId) {
      store.calls.push('get')
      return store.tokens.get(tenantId)
    },
    async set (tenantId, token) {
      store.calls.push('set')
      store.tokens.set(tenantId, token)
    },
    async lock (tenantId) {
      store.calls.push('lock')
      if (store.locks.has(tenantId)) return false
      store.locks.add(tenantId)
      store.onLock?.(tenantId)
      return true
    },
    async unlock (tenantId) {
      store.calls.push('unlock')
      store.locks.delete(tenantId)
    },
    async delete (tenantId) {
      store.calls.push('delete')
      store.tokens.delete(tenantId)
    }
  }
  return store
}

interface Replica { source: FakeSource, seen: string[], provider: ReturnType<typeof createTokenProvider> }

function replica (clock: FakeClock, shared: SharedTokenStore, extra: Partial<TokenProviderOptions> = {}): Replica {
  const source = fakeSource(clock)
  const seen: string[] = []
  const events: TokenEvents = {
    hit: () => seen.push('hit'),
    acquired: (_t, _s, background) => seen.push(background ? 'refreshed' : 'acquired'),
    failed: (_t, kind) => seen.push(`failed:${kind}`),
    shared: (_t, background) => seen.push(background ? 'refreshed-shared' : 'shared')
  }
  const provider = createTokenProvider({ source, resource: RESOURCE, skewMs: SKEW, maxTenants: 10, events, now: () => clock.now, schedule: clock.schedule, random: () => 0, shared, sharedWait: WAIT, ...extra })
  return { source, seen, provider }
}

const token = (clock: FakeClock, lifetimeMs: number, n = 0): AcquiredToken =>
  ({ accessToken: jwt({ tid: A, roles: ['Alert.Read.All'], n }), expiresOn: clock.now + lifetimeMs })

t.test('a valid shared token is used without asking the source, then served from the local cache', async (t) => {
  const clock = fakeClock()
  const store = fakeStore()
  const published = token(clock, 60 * MIN)
  store.tokens.set(A, published)
  const { source, seen, provider } = replica(clock, store)
  t.equal((await provider.get(A, 'r')).accessToken, published.accessToken)
  await provider.get(A, 'r')
  t.same(source.calls, [], 'Entra ID not asked')
  t.same(store.calls, ['get'], 'one shared lookup; the second get was a local hit')
  t.same(seen, ['shared', 'hit'])
  // Default wait policy and no `shared` event handler: still a shared hit.
  const quiet = createTokenProvider({ source, resource: RESOURCE, skewMs: SKEW, maxTenants: 10, now: () => clock.now, shared: store })
  t.equal((await quiet.get(A, 'r')).accessToken, published.accessToken)
  t.same(source.calls, [])
})

t.test('two replicas cold at once: the lock holder asks and publishes, the other waits and uses its token', async (t) => {
  const clock = fakeClock()
  const store = fakeStore()
  const one = replica(clock, store)
  const two = replica(clock, store, { source: one.source })
  const gate = held()
  one.source.next.push(gate.answer)
  const gets = [...Array.from({ length: 10 }, async () => await one.provider.get(A, 'r')), ...Array.from({ length: 10 }, async () => await two.provider.get(A, 'r'))]
  await new Promise((resolve) => setTimeout(resolve, 5))
  gate.release(token(clock, 60 * MIN))
  const tokens = await Promise.all(gets)
  t.equal(one.source.calls.length, 1, 'one token request across both replicas')
  t.equal(new Set(tokens.map((x) => x.accessToken)).size, 1, 'both serve the same token')
  t.same([...one.seen, ...two.seen].sort(), ['acquired', 'shared'])
  t.equal(store.locks.size, 0, 'the lock is released')
})

t.test('the lock holder looks again first: a token published meanwhile is used', async (t) => {
  const clock = fakeClock()
  const store = fakeStore()
  store.onLock = (tenant) => store.tokens.set(tenant, token(clock, 60 * MIN))
  const { source, seen, provider } = replica(clock, store)
  await provider.get(A, 'r')
  t.same(source.calls, [])
  t.same(seen, ['shared'])
  t.same(store.calls, ['get', 'lock', 'get', 'unlock'])
})

t.test('expired or nearly expired shared tokens are ignored', async (t) => {
  const clock = fakeClock()
  const store = fakeStore()
  store.tokens.set(A, token(clock, SKEW))
  const { source, seen, provider } = replica(clock, store)
  const got = await provider.get(A, 'r')
  t.same(source.calls, [A], 'asked Entra ID')
  t.equal(store.tokens.get(A)?.accessToken, got.accessToken, 'and published the new token')
  t.same(seen, ['acquired'])
  t.same(store.calls, ['get', 'lock', 'get', 'set', 'unlock'])
})

t.test('a lock that stays taken: waits, then asks Entra ID itself; a lock that frees: takes over', async (t) => {
  const clock = fakeClock()
  const store = fakeStore()
  store.locks.add(A)
  const stuck = replica(clock, store)
  await stuck.provider.get(A, 'r')
  t.same(stuck.source.calls, [A], 'asked itself once the wait was over')
  t.equal(store.calls.filter((c) => c === 'get').length, 21, 'looked for a published token 20 times')
  t.ok(store.tokens.has(A), 'and published its token')

  const freed = fakeStore()
  freed.locks.add(A)
  setTimeout(() => freed.locks.delete(A), 3)
  const next = replica(clock, freed)
  await next.provider.get(A, 'r')
  t.same(next.source.calls, [A], 'the holder gave up without a token: this replica asked')
  t.equal(freed.locks.size, 0)
})

t.test('a store that fails or knows nothing never fails a request: the source is asked', async (t) => {
  const clock = fakeClock()
  const broken: SharedTokenStore = {
    get () { throw new Error('sync boom') },
    async set () { throw new Error('boom') },
    async lock () { throw new Error('boom') },
    async unlock () { throw new Error('boom') },
    async delete () { throw new Error('boom') }
  }
  const one = replica(clock, broken)
  t.equal((await one.provider.get(A, 'r')).tid, A)
  t.same(one.source.calls, [A])
  // What the Redis store answers while Redis is down: nothing shared, and the lock is yours.
  const down: SharedTokenStore = { get: async () => undefined, set: async () => {}, lock: async () => true, unlock: async () => {}, delete: async () => {} }
  const two = replica(clock, down)
  t.equal((await two.provider.get(A, 'r')).tid, A)
  t.same(two.source.calls, [A])
})

t.test('renewals: a fresher shared token is used; the token being renewed or one upstream rejected is not', async (t) => {
  const clock = fakeClock()
  const store = fakeStore()
  const early = replica(clock, store, { random: () => 1 })
  const late = replica(clock, store)
  const first = await early.provider.get(A, 'r')
  t.equal((await late.provider.get(A, 'r')).accessToken, first.accessToken)
  await early.provider.get(A, 'r')
  await late.provider.get(A, 'r')
  await clock.advance(45 * MIN)
  t.equal(early.source.calls.length, 2, 'the earlier renewal asked Entra ID (the shared token was the one being renewed)')
  t.same(early.seen, ['acquired', 'hit', 'refreshed'])
  t.same(late.seen, ['shared', 'hit', 'refreshed-shared'], 'the later renewal found the fresher shared token')
  t.equal(late.source.calls.length, 0)
  const renewed = await late.provider.get(A, 'r')
  t.equal(renewed.accessToken, store.tokens.get(A)?.accessToken)

  late.provider.purge(A)
  late.provider.purge('unknown')
  const replaced = await late.provider.get(A, 'r')
  t.equal(late.source.calls.length, 1, 'after a 401 the rejected shared token is not taken back')
  t.not(replaced.accessToken, renewed.accessToken)
  await late.provider.refresh(A, 'r')
  t.equal(late.source.calls.length, 2, 'refresh() never takes back the token it replaces')
})

t.test('wiring: shared hits are counted', async (t) => {
  const loaded = buildFromObject({
    identity: { clientId: '0a0b0c0d-1111-4222-8333-444455556666', secret: { fromEnv: 'S' } }
  }, { source: 'test', baseDir: process.cwd(), env: { S: 'x' } })
  const store = fakeStore()
  store.tokens.set(A, { accessToken: jwt({ tid: A, roles: [] }), expiresOn: Date.now() + 60 * MIN })
  const metrics = createMetrics('test')
  const source = fakeSource({ now: Date.now() })
  const { tokens } = createGatewayTokens({ loaded, metrics, logger: pino({ level: 'silent' }), tokenSource: source, shared: store })
  t.teardown(() => tokens.close())
  t.equal((await tokens.get(A, 'r')).tid, A)
  t.same(source.calls, [])
  t.match(await metrics.registry.metrics(), /defender_gateway_token_shared_hits_total 1/)
})
