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
  // Process health, read at scrape time: present, and plausible for a live process.
  const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(scrape.text)?.[1])
  t.ok(value('defender_gateway_process_resident_memory_bytes') > 10_000_000, 'resident memory')
  t.ok(value('defender_gateway_process_cpu_seconds_total') > 0, 'CPU seconds')
  t.ok(value('defender_gateway_process_open_fds') > 3, 'open file descriptors (the listeners at least)')
  t.ok(value('defender_gateway_heap_used_bytes') > 0 && value('defender_gateway_heap_used_bytes') <= value('defender_gateway_heap_size_bytes'), 'heap used within heap size')
  t.ok(value('defender_gateway_process_start_time_seconds') <= Date.now() / 1000, 'start time')
  for (const stat of ['p50', 'p99', 'max']) t.ok(value(`defender_gateway_eventloop_lag_seconds{stat="${stat}"}`) >= 0, `event-loop lag ${stat}`)
  const again = await call(world.adminUrl, '/metrics')
  const cpu = (text: string): number => Number(/^defender_gateway_process_cpu_seconds_total (\S+)$/m.exec(text)?.[1])
  t.ok(cpu(again.text) >= cpu(scrape.text), 'the CPU counter never goes down between scrapes')
})
