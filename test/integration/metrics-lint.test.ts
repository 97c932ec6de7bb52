import t from 'tap'
import { promtool } from '../promtool.js'
import { call, startWorld, withKey, TENANT_A, TENANT_C } from '../helper.js'

t.test('a real scrape, after traffic of every kind, lints clean with promtool', async (t) => {
  const world = await startWorld()
  t.teardown(async () => { await world.close() })
  const key = withKey(world.keys.ops, { 'content-type': 'application/json' })
  await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: key })
  await call(world.url, `/tenants/${TENANT_A}/api/alerts`, {})
  await call(world.url, `/tenants/${TENANT_C}/api/machines/x/isolate`, { method: 'POST', headers: key, body: '{"Comment":"x"}' })
  world.sim.entra.setFault('*', { kind: 'status', status: 500 })
  await call(world.url, '/tenants/fabrikam/api/alerts', { headers: key })
  world.sim.entra.setFault('*', undefined)
  const scrape = await call(world.adminUrl, '/metrics')
  t.equal(scrape.status, 200)
  const families = new Set([...scrape.text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]))
  t.ok(families.size >= 10, `${families.size} metric families exported`)
  t.ok([...families].every((f) => f!.startsWith('defender_gateway_')), 'every family is ours, on our own registry')
  const { code, output } = await promtool(scrape.text)
  t.equal(code, 0, `promtool check metrics: ${output.trim() || 'clean'}`)
})
