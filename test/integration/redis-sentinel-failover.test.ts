import t from 'tap'
import { call } from '../helper.js'
import { promtool } from '../promtool.js'
import { until } from '../redis-clients.js'
import { finishFailoverLoad, runLoad, startFailoverWorld } from '../redis-failover-world.js'
import { PRIMARY_NAME, startSentinels } from '../redis-sentinel.js'

/**
 * Issue 19: three gateway replicas on a Sentinel-managed primary (one replica, three sentinels). The
 * primary is killed under load; Sentinel promotes the replica and the gateways follow it.
 */
const LOAD = ['19191919-5e00-4000-8000-000000000001', '19191919-5e00-4000-8000-000000000002', '19191919-5e00-4000-8000-000000000003']
const LATE = '19191919-5e00-4000-8000-000000000004'

t.test('Sentinel primary killed under load', async (t) => {
  const redis = await startSentinels()
  t.teardown(async () => { await redis.stop() })
  const world = await startFailoverWorld([...LOAD, LATE], { sentinel: { nodes: redis.seeds, primaryName: PRIMARY_NAME } })
  t.teardown(async () => { await world.close() })
  const { sim } = world
  for (let i = 0; i < 3; i++) t.ok(await until(async () => (await world.primaries(i)).join() === redis.primary.address), `replica ${i} names the primary`)

  // Tokens: LOAD tenants in every replica's memory, LATE only in replica 0's and in Redis.
  for (const tenant of [...LOAD, LATE]) t.equal((await world.alerts(0, tenant)).status, 200)
  for (const tenant of LOAD) for (const i of [1, 2]) t.equal((await world.alerts(i, tenant)).status, 200)
  for (const tenant of [...LOAD, LATE]) t.equal(sim.entra.tokenRequests(tenant), 1, 'one token per tenant, shared')
  t.ok(await until(async () => await redis.client.exists(`dgw:token:{${LATE}}`) === 1), 'LATE\'s token is in Redis')
  // A write of our own acknowledged by the replica: every earlier write (the tokens, the budgets) is there too.
  await redis.client.set('test:sync', '1')
  t.equal(await redis.client.call('WAIT', '1', '10000'), 1, 'the replica has everything written so far')

  const load = runLoad(world, LOAD)
  t.ok(await until(() => load.sent() >= 15), 'load is running')
  const { switched } = await redis.switchMaster()
  await redis.primary.kill()
  t.equal(await switched, redis.replica.address, '+switch-master: Sentinel promoted the replica')
  t.ok(await world.allShared(), 'every replica back on Redis')
  for (let i = 0; i < 3; i++) {
    t.ok(await until(async () => (await world.primaries(i)).join() === redis.replica.address), `replica ${i} names the new primary`)
  }
  const { result, tokens, beyond, failovers, fallbackSeconds } = await finishFailoverLoad(t, world, load, LOAD)
  t.same(failovers, [1, 1, 1], 'each replica counted the failover once')
  t.comment(`sentinel failover: ${result.sent} requests (${result.ok} ok, ${result.limited} rate limited, ${result.failed.length} failed); ` +
    `token requests during it per tenant ${tokens.join('/')}; beyond the budget per tenant ${beyond.join('/')}; ` +
    `seconds in fallback per replica ${fallbackSeconds.map((s) => s.toFixed(2)).join('/')}`)

  const { code, output } = await promtool((await call(world.replicas[0]!.adminUrl, '/metrics')).text)
  t.equal(code, 0, `promtool check metrics after a failover: ${output.trim() || 'clean'}`)

  t.equal((await world.alerts(1, LATE)).status, 200)
  t.equal((await world.alerts(2, LATE)).status, 200)
  t.equal(sim.entra.tokenRequests(LATE), 1, 'a token written before the failover is read from the promoted replica')
})
