import t from 'tap'
import { createRateBudgets } from '../../src/limits/create-budgets.js'
import { createRedisBudgetStore } from '../../src/redis/budget-store.js'
import { budgetKeys, tokenKeys } from '../../src/redis/keys.js'
import { createRedisTokenStore } from '../../src/redis/token-store.js'
import { connect, until } from '../redis-clients.js'
import { startRedisCluster, type TestCluster } from '../redis-cluster.js'
import { finishFailoverLoad, runLoad, startFailoverWorld } from '../redis-failover-world.js'

/**
 * Issue 19 on a real Redis Cluster (3 primaries, a replica each): every multi-key operation keeps its
 * keys in one slot, and three gateway replicas ride out a primary's death under load.
 */
const tenantId = (prefix: string, i: number): string => `${prefix}-0000-4000-8000-${String(i).padStart(12, '0')}`
const limits = { maxWaitMs: 0, maxTenants: 100, clientShares: {}, defaultClientShare: 1, fallbackShare: 0.5, classes: { default: { perMinute: 8 } } }

/** The first candidate tenants whose `key(tenant)` a given primary serves, bounded. */
async function tenantsOn (cluster: TestCluster, address: string, key: (tenant: string) => string, prefix: string, count: number): Promise<string[]> {
  const found: string[] = []
  for (let i = 0; i < 200 && found.length < count; i++) {
    if ((await cluster.ownerOf(key(tenantId(prefix, i)))).address === address) found.push(tenantId(prefix, i))
  }
  return found
}

t.test('Redis Cluster', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(async () => { await cluster.stop() })
  const primaries = (await cluster.view()).filter((n) => n.primary)

  t.test('budget scripts and token locks run on every shard', async (t) => {
    const conn = await connect({ kind: 'cluster', nodes: cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })) })
    t.teardown(async () => { await conn.redis.close() })
    const budgets = createRateBudgets(limits, { store: createRedisBudgetStore(conn.redis), metrics: conn.metrics })
    const tokens = createRedisTokenStore({ redis: conn.redis, keyMaterial: 'k'.repeat(32) })
    const tenants = (await Promise.all(primaries.map(async (p) => await tenantsOn(cluster, p.address, (x) => budgetKeys('test:', x, 'default').calls, '1c1c1c1c', 1)))).flat()
    t.equal(tenants.length, 3, 'one tenant per shard')
    for (const tenant of tenants) {
      const keys = budgetKeys('test:', tenant, 'default')
      const slots = new Set(await Promise.all([keys.calls, keys.hold, keys.client('siem')].map(async (k) => await cluster.command(undefined, 'CLUSTER', 'KEYSLOT', k))))
      t.equal(slots.size, 1, 'a budget\'s keys share one slot')
      const answers = []
      for (let i = 0; i < 9; i++) answers.push((await budgets.take(tenant, 'default', 'siem')).ok)
      t.same(answers, [...Array(8).fill(true), false], 'the shared budget: 8 allowed, the 9th refused by the script')
      await budgets.hold(tenant, 'advancedQuery', 30_000)
      const held = await budgets.take(tenant, 'advancedQuery', 'siem')
      t.ok(!held.ok && held.reason === 'upstream', 'a hold applies')
      const token = tokenKeys('test:', tenant)
      t.equal(await cluster.command(undefined, 'CLUSTER', 'KEYSLOT', token.value), await cluster.command(undefined, 'CLUSTER', 'KEYSLOT', token.lock), 'a token and its lock share one slot')
      await tokens.set(tenant, { accessToken: `tok-${tenant}`, expiresOn: Date.now() + 3_600_000 }, 0)
      t.equal((await tokens.get(tenant))?.accessToken, `tok-${tenant}`)
      t.equal(await tokens.lock(tenant, 10_000), true)
      t.equal(await createRedisTokenStore({ redis: conn.redis, keyMaterial: 'k'.repeat(32) }).lock(tenant, 10_000), false, 'the lock is shared')
      await tokens.unlock(tenant)
      t.equal(await cluster.command((await cluster.ownerOf(token.lock)).address, 'EXISTS', token.lock), 0, 'unlocked by its owner\'s script')
    }
    for (const operation of ['take', 'hold', 'token_get', 'token_set', 'lock', 'unlock']) t.equal(await conn.fallbacks(operation), 0, `no ${operation} fell back to local state`)
    // The control: the same script with keys of two shards is refused, so the test above could fail.
    const [a, b] = tenants.map((x) => budgetKeys('test:', x as string, 'default'))
    await t.rejects(conn.redis.client.dgwTake(a?.calls as string, b?.hold as string, a?.client('siem') as string, 'm', 1, 60_000, 8, 0), /CROSSSLOT/, 'keys of two slots: CROSSSLOT')
  })

  t.test('a primary killed under load: its replica takes over', async (t) => {
    const LOAD = [0, 1, 2].map((i) => tenantId('c1c1c1c1', i))
    const victim = await cluster.ownerOf(budgetKeys('dgw:', LOAD[0] as string, 'default').calls)
    const successor = (await cluster.view()).find((n) => n.primaryId === victim.id)
    if (successor === undefined) throw new Error('the victim has no replica')
    const [LATE] = await tenantsOn(cluster, victim.address, (x) => tokenKeys('dgw:', x).value, 'ccccc1a7', 1)
    if (LATE === undefined) throw new Error('no candidate tenant on the victim')
    const world = await startFailoverWorld([...LOAD, LATE], { cluster: { nodes: cluster.seeds } })
    t.teardown(async () => { await world.close() })
    const { sim } = world
    const addresses = primaries.map((p) => p.address).sort()
    for (let i = 0; i < 3; i++) t.ok(await until(async () => (await world.primaries(i)).join() === addresses.join()), `replica ${i} names the 3 primaries`)

    for (const tenant of [...LOAD, LATE]) t.equal((await world.alerts(0, tenant)).status, 200)
    for (const tenant of LOAD) for (const i of [1, 2]) t.equal((await world.alerts(i, tenant)).status, 200)
    for (const tenant of [...LOAD, LATE]) t.equal(sim.entra.tokenRequests(tenant), 1, 'one token per tenant, shared')
    t.ok(await until(async () => await cluster.command(victim.address, 'EXISTS', tokenKeys('dgw:', LATE).value) === 1), 'LATE\'s token is on the victim')
    await cluster.command(victim.address, 'SET', `test:sync:{${LATE}}`, '1')
    t.equal(await cluster.command(victim.address, 'WAIT', '1', '10000'), 1, 'the victim\'s replica has everything written so far')

    const load = runLoad(world, LOAD)
    t.ok(await until(() => load.sent() >= 15), 'load is running')
    await cluster.kill(victim.address)
    await cluster.settled((v) => v.find((n) => n.address === successor.address)?.primary === true)
    t.pass('the replica was promoted (CLUSTER NODES)')
    t.ok(await world.allShared(), 'every replica back on Redis')
    const now = [...addresses.filter((a) => a !== victim.address), successor.address].sort().join()
    for (let i = 0; i < 3; i++) t.ok(await until(async () => (await world.primaries(i)).join() === now), `replica ${i} names the new primaries`)
    const { result, tokens, beyond, failovers, fallbackSeconds } = await finishFailoverLoad(t, world, load, LOAD)
    // At least once: a slot map read from a node that has not yet heard of the promotion can count it again.
    t.ok(failovers.every((n) => n >= 1), `each replica counted the failover (${failovers.join('/')})`)
    t.comment(`cluster failover: ${result.sent} requests (${result.ok} ok, ${result.limited} rate limited, ${result.failed.length} failed); ` +
      `token requests during it per tenant ${tokens.join('/')}; beyond the budget per tenant ${beyond.join('/')}; ` +
      `seconds in fallback per replica ${fallbackSeconds.map((s) => s.toFixed(2)).join('/')}; failovers counted ${failovers.join('/')}`)

    t.equal((await world.alerts(1, LATE)).status, 200)
    t.equal((await world.alerts(2, LATE)).status, 200)
    t.equal(sim.entra.tokenRequests(LATE), 1, 'a token written before the failover is read from the promoted replica')
  })
})
