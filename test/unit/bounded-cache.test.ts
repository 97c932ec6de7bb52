import t from 'tap'
import { getHeapStatistics } from 'node:v8'
import { LRUCache } from 'lru-cache'
import { upTo } from '../../src/bounded-cache.js'

t.test('upTo(n): at most n entries, the least recently used evicted first, dispose told it was an eviction', async (t) => {
  const disposed: Array<[string, string]> = []
  const cache = new LRUCache<string, number>({ ...upTo(3), dispose: (_v, k, reason) => { disposed.push([k, reason]) } })
  for (const k of ['a', 'b', 'c']) cache.set(k, 1)
  cache.get('a')
  cache.set('d', 1)
  t.same([...cache.keys()].sort(), ['a', 'c', 'd'], 'b, the least recently used, went')
  t.same(disposed, [['b', 'evict']], 'token-provider forgets msal clients on exactly this reason')
  for (let i = 0; i < 1000; i++) cache.set(`t${i}`, i)
  t.equal(cache.size, 3, 'a flood of keys never grows it past n')
  t.same([...cache.keys()].sort(), ['t997', 't998', 't999'])
})

t.test('upTo(50,000) with a TTL: expired entries are gone, the bound holds', async (t) => {
  // (lru-cache reads a start time of 0 as "no TTL": the clock starts later)
  let now = 5
  const cache = new LRUCache<string, number>({ ...upTo(50_000), ttl: 1000, ttlResolution: 0, perf: { now: () => now } })
  cache.set('a', 1)
  now = 1004
  t.equal(cache.get('a'), 1)
  now = 1006
  t.equal(cache.get('a'), undefined)
})

t.test('no storage up front: an empty cache for 50,000 tenants takes a few KB of heap, not a MB', async (t) => {
  const caches: unknown[] = []
  const before = getHeapStatistics().used_heap_size
  for (let i = 0; i < 8; i++) caches.push(new LRUCache<string, number>(upTo(50_000)))
  const grown = getHeapStatistics().used_heap_size - before
  // { max: 50_000 } allocates ~1.2 MB per cache (two 50,000-slot arrays and typed arrays) at once.
  t.ok(grown < 1024 * 1024, `eight empty caches grew the heap by ${(grown / 1024).toFixed(0)} KB`)
  t.equal(caches.length, 8)
})
