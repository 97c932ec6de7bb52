import t from 'tap'
import { createRedisTokenStore } from '../../src/redis/token-store.js'
import { storeForResource } from '../../src/tokens/resource-store.js'
import { startRedis } from '../redis-server.js'
import { connect } from '../redis-clients.js'

const A = '11111111-1111-4111-8111-111111111111'
const KEY = 'k'.repeat(32)
const DEFENDER = 'eyJhbGciOiJSUzI1NiJ9.defender-token-body.sig'
const GRAPH = 'eyJhbGciOiJSUzI1NiJ9.graph-token-body.sig'

// Issue 15: a tenant's Defender and Graph tokens are two shared entries that can never be read as each other.
t.test('the shared token store keeps one entry per (tenant, resource)', async (t) => {
  const server = await startRedis()
  t.teardown(async () => await server.stop())
  const one = await connect(server.url)
  const two = await connect(server.url)
  t.teardown(async () => { await one.redis.close(); await two.redis.close() })
  const expiresOn = Date.now() + 3_600_000
  const defender = createRedisTokenStore({ redis: one.redis, keyMaterial: KEY })
  const graph = storeForResource(createRedisTokenStore({ redis: one.redis, keyMaterial: KEY }), 'graph')
  const otherReplicaGraph = storeForResource(createRedisTokenStore({ redis: two.redis, keyMaterial: KEY }), 'graph')

  await defender.set(A, { accessToken: DEFENDER, expiresOn }, 300_000)
  t.equal(await graph.get(A), undefined, 'a Defender token is not a Graph token')
  await graph.set(A, { accessToken: GRAPH, expiresOn }, 300_000)
  t.same(await otherReplicaGraph.get(A), { accessToken: GRAPH, expiresOn }, 'replicas share the Graph token')
  t.same(await defender.get(A), { accessToken: DEFENDER, expiresOn }, 'and the Defender token, apart')

  // A Graph entry copied under the Defender key does not open: the seal is bound to (tenant, resource).
  await one.redis.client.set(`test:token:{${A}}`, (await one.redis.client.get(`test:token:{${A}|graph}`)) as string)
  t.equal(await defender.get(A), undefined, 'a Graph value under the Defender key does not open')

  t.ok(await graph.lock(A, 5000), 'the Graph lock is its own')
  t.ok(await defender.lock(A, 5000), 'so the Defender lock of the tenant is still free')
  await graph.unlock(A)
  await graph.delete(A)
  t.equal(await otherReplicaGraph.get(A), undefined, 'deleted for every replica')
})
