import t from 'tap'
import type { Cluster, Redis } from 'ioredis'
import { buildFromObject } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'
import { createRedisClient, type ClientOptions } from '../../src/redis/client-factory.js'
import { describeTopology, failoversBetween, parseHostPort, topologyOf, usesTls } from '../../src/redis/topology.js'

const env = { S: 'x', RK: 'k'.repeat(32), RP: 'redis-password', SP: 'sentinel-password' }
const options = { source: 'test', baseDir: '.', env }
const base = (redis: Record<string, unknown>): Record<string, unknown> => ({
  identity: { clientId: '00000000-0000-4000-8000-000000000000', secret: { fromEnv: 'S' } },
  redis: { tokenKey: { fromEnv: 'RK' }, ...redis }
})
function problems (raw: Record<string, unknown>): readonly string[] {
  try {
    buildFromObject(raw, options)
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

t.test('the three topologies load, with their secrets', async (t) => {
  const sentinel = buildFromObject(base({ sentinel: { nodes: ['s1:26379', '[::1]:26380'], primaryName: 'mymaster', username: 'sen', password: { fromEnv: 'SP' } }, username: 'gw', password: { fromEnv: 'RP' }, tls: true }), options)
  const topology = topologyOf(sentinel.config.redis!, sentinel.secrets.redisSentinelPassword)
  t.match(topology, { kind: 'sentinel', nodes: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }], primaryName: 'mymaster', username: 'sen' })
  t.equal(topology.kind === 'sentinel' && topology.password?.reveal(), 'sentinel-password')
  t.equal(sentinel.secrets.redisPassword?.reveal(), 'redis-password')
  t.equal(usesTls(topology, sentinel.config.redis?.tls), true)
  const cluster = buildFromObject(base({ cluster: { nodes: ['c1:6379'] } }), options)
  t.same(topologyOf(cluster.config.redis!), { kind: 'cluster', nodes: [{ host: 'c1', port: 6379 }] })
  const one = buildFromObject(base({ url: 'rediss://r:6380' }), options)
  t.same(topologyOf(one.config.redis!), { kind: 'standalone', url: 'rediss://r:6380' })
  t.equal(usesTls(topologyOf(one.config.redis!), undefined), true, 'rediss:// is TLS')
})

t.test('every redis problem at once, with its path', async (t) => {
  t.same(problems(base({})), ['redis: set exactly one of url (one node), sentinel (nodes + primaryName) or cluster (nodes)'])
  t.same(problems(base({ url: 'redis://r', cluster: { nodes: ['c:1'] } })), ['redis: set exactly one of url (one node), sentinel (nodes + primaryName) or cluster (nodes)'])
  t.same(problems(base({ url: 'redis://gw@r', tls: true })), ['redis.url: must not contain a user name; use redis.username', 'redis.tls: only with sentinel or cluster; a url turns TLS on with rediss://'])
  const schema = problems(base({ sentinel: { nodes: ['no-port', 'h:1'], primaryName: 'bad name', colour: 1 }, cluster: { nodes: [] }, password: 'inline' }))
  t.ok(schema.includes("redis.sentinel.nodes[0]: must be 'host:port'"), 'host:port')
  t.ok(schema.some((p) => p.startsWith('redis.sentinel.primaryName: ')), 'primary name')
  t.ok(schema.some((p) => p.startsWith('redis.sentinel: Unrecognized key')), 'unknown keys are errors')
  t.ok(schema.some((p) => p.startsWith('redis.cluster.nodes: ')), 'at least one seed')
  t.ok(schema.some((p) => p.startsWith('redis.password: must be {fromEnv: NAME} or {fromFile: PATH}')), 'no inline secrets')
  t.same(problems(base({ sentinel: { nodes: ['h:1'], primaryName: 'm', password: { fromEnv: 'NOPE' } } })), ['redis.sentinel.password: environment variable NOPE is not set'])
})

t.test('addresses, log descriptions and failovers', async (t) => {
  t.same(parseHostPort('redis.example:6380'), { host: 'redis.example', port: 6380 })
  t.same(parseHostPort('[fd00::1]:6379'), { host: 'fd00::1', port: 6379 })
  t.equal(describeTopology({ kind: 'standalone', url: 'rediss://user:pw@r:6380/2' }), 'rediss://r:6380/2', 'never a credential')
  t.equal(describeTopology({ kind: 'sentinel', nodes: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }], primaryName: 'm', password: { reveal: () => 'secret' } }), 'sentinel m via a:1,b:2')
  t.equal(describeTopology({ kind: 'cluster', nodes: [{ host: 'c', port: 3 }] }), 'cluster via c:3')
  const cases: Array<[string[], string[], number, string]> = [
    [[], ['a:1'], 0, 'the first connection'],
    [['a:1'], ['a:1'], 0, 'no change'],
    [['a:1'], ['b:1'], 1, 'Sentinel promoted another node'],
    [['a:1', 'b:1', 'c:1'], ['a2:1', 'b:1', 'c:1'], 1, 'one shard failed over'],
    [['a:1', 'b:1'], ['a:1', 'b:1', 'c:1'], 0, 'a shard added'],
    [['a:1', 'b:1', 'c:1'], ['a2:1', 'b2:1', 'c:1'], 2, 'two shards failed over']
  ]
  for (const [before, after, n, what] of cases) t.equal(failoversBetween(new Set(before), new Set(after)), n, what)
})

t.test('clients are built with the topology, credentials and TLS asked for', async (t) => {
  const common: Omit<ClientOptions, 'topology' | 'tls'> = { username: 'gw', password: { reveal: () => 'pw' }, caPem: undefined, commandTimeoutMs: 100, connectTimeoutMs: 100, retryStrategy: () => 1000 }
  const built = (o: Pick<ClientOptions, 'topology' | 'tls'>): Redis | Cluster => {
    const client = createRedisClient({ ...common, ...o })
    client.on('error', () => {})
    client.disconnect()
    return client
  }
  const sentinel = built({ topology: { kind: 'sentinel', nodes: [{ host: '127.0.0.1', port: 1 }], primaryName: 'm', username: 'sen', password: { reveal: () => 'spw' } }, tls: true }) as Redis
  t.match(sentinel.options, { name: 'm', sentinels: [{ host: '127.0.0.1', port: 1 }], username: 'gw', password: 'pw', sentinelUsername: 'sen', sentinelPassword: 'spw', enableTLSForSentinelMode: true, failoverDetector: true, enableOfflineQueue: false })
  t.ok(sentinel.options.tls !== undefined && sentinel.options.sentinelTLS !== undefined, 'TLS to the primary and to the sentinels')
  const plain = built({ topology: { kind: 'sentinel', nodes: [{ host: '127.0.0.1', port: 1 }], primaryName: 'm' }, tls: false }) as Redis
  t.equal(plain.options.tls, undefined)
  t.notOk(plain.options.enableTLSForSentinelMode)
  const cluster = built({ topology: { kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 2 }] }, tls: true }) as Cluster
  t.equal(cluster.isCluster, true)
  t.match(cluster.options, { enableOfflineQueue: false, retryDelayOnFailover: 0, redisOptions: { username: 'gw', password: 'pw', maxRetriesPerRequest: 0, commandTimeout: 100 } })
  t.ok(cluster.options.redisOptions?.tls !== undefined, 'TLS to every node')
  const looked = await new Promise((resolve) => { cluster.options.dnsLookup?.('cache.example.invalid', (_err, address) => { resolve(address) }) })
  t.equal(looked, 'cache.example.invalid', 'host names kept as given, for certificate checks')
  const clear = built({ topology: { kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 2 }] }, tls: false }) as Cluster
  t.equal(clear.options.redisOptions?.tls, undefined)
})
