import t from 'tap'
import { createRedisTokenStore } from '../../src/redis/token-store.js'
import { deriveKey, seal, unseal } from '../../src/redis/seal.js'
import { startRedis } from '../redis-server.js'
import { connect } from '../redis-clients.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const KEY = 'k'.repeat(32)
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.secret-token-body.signature'

t.test('seal/unseal: AES-256-GCM bound to its context', async (t) => {
  const key = deriveKey(KEY)
  const sealed = seal(key, TOKEN, A)
  t.notOk(sealed.includes('secret-token-body'))
  t.not(seal(key, TOKEN, A), sealed, 'a fresh IV each time')
  t.equal(unseal(key, sealed, A), TOKEN)
  t.equal(unseal(key, sealed, B), undefined, 'another tenant cannot open it')
  t.equal(unseal(deriveKey('x'.repeat(32)), sealed, A), undefined, 'another key cannot open it')
  t.equal(unseal(key, 'v0.abc', A), undefined, 'unknown format')
  t.equal(unseal(key, 'v1.abc', A), undefined, 'too short')
  const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA')
  t.equal(unseal(key, tampered, A), undefined, 'tampering is detected')
})

t.test('token store on Redis', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  const one = await connect(server.url)
  const two = await connect(server.url)
  t.teardown(async () => { await one.redis.close(); await two.redis.close() })
  let now = Date.now()
  const first = createRedisTokenStore({ redis: one.redis, keyMaterial: KEY, now: () => now })
  const second = createRedisTokenStore({ redis: two.redis, keyMaterial: KEY, now: () => now })

  t.test('round trip between replicas, encrypted at rest, TTL = expiry minus skew', async (t) => {
    t.equal(await second.get(A), undefined, 'nothing shared yet')
    const expiresOn = now + 3_600_000
    await first.set(A, { accessToken: TOKEN, expiresOn }, 300_000)
    t.same(await second.get(A), { accessToken: TOKEN, expiresOn }, 'the other replica reads it')
    const raw = await one.redis.client.get(`test:token:{${A}}`)
    t.ok(raw !== null && !raw.includes(TOKEN) && !raw.includes('secret-token-body'), 'the raw value does not contain the token')
    const ttl = await one.redis.client.pttl(`test:token:{${A}}`)
    t.ok(ttl > 3_290_000 && ttl <= 3_300_000, `ttl ${ttl} is expiry minus skew`)
    t.equal(await second.get(B), undefined, 'per tenant')
  })

  t.test('values that do not open, do not parse or have expired are misses', async (t) => {
    await one.redis.client.set(`test:token:{${B}}`, (await one.redis.client.get(`test:token:{${A}}`)) as string)
    t.equal(await second.get(B), undefined, "A's value copied under B's key does not open")
    const other = createRedisTokenStore({ redis: two.redis, keyMaterial: 'z'.repeat(32) })
    t.equal(await other.get(A), undefined, 'a replica with another key sees nothing')
    const key = deriveKey(KEY)
    await one.redis.client.set(`test:token:{${B}}`, seal(key, 'not json', B))
    t.equal(await first.get(B), undefined, 'not JSON')
    await one.redis.client.set(`test:token:{${B}}`, seal(key, JSON.stringify({ accessToken: 1, expiresOn: now + 1000 }), B))
    t.equal(await first.get(B), undefined, 'wrong shape')
    await one.redis.client.set(`test:token:{${B}}`, seal(key, JSON.stringify({ accessToken: 'x', expiresOn: now - 1 }), B))
    t.equal(await first.get(B), undefined, 'expired')
    await one.redis.client.del(`test:token:{${B}}`)
    await first.set(B, { accessToken: TOKEN, expiresOn: now + 1000 }, 5000)
    t.equal(await one.redis.client.exists(`test:token:{${B}}`), 0, 'a token inside its skew is not stored')
    now += 3_600_001
    t.equal(await first.get(A), undefined, 'past its expiry a stored token is not served')
    now = Date.now()
  })

  t.test('lock: one replica at a time; only the owner unlocks', async (t) => {
    const results = await Promise.all([first.lock(A, 5000), second.lock(A, 5000), first.lock(A, 5000)])
    t.equal(results.filter(Boolean).length, 1, 'exactly one holder under contention')
    const firstHolds = results[0] === true || results[2] === true
    const [holder, other] = firstHolds ? [first, second] : [second, first]
    await other.unlock(A)
    t.equal(await other.lock(A, 5000), false, 'a non-owner unlock does nothing')
    await holder.unlock(A)
    t.equal(await other.lock(A, 5000), true, 'free after the owner unlocks')
    await other.unlock(A)
    t.equal(await first.lock(B, 1), true)
    t.ok(await (async () => { for (let i = 0; i < 100; i++) { if (await second.lock(B, 5000)) return true; await new Promise((resolve) => setTimeout(resolve, 10)) } return false })(), 'a lock expires by itself')
    await second.unlock(B)
    await first.unlock(B)
    t.equal(await one.redis.client.exists(`test:lock:token:{${B}}`), 0, 'unlocked')
  })
})
