import t from 'tap'
import { spawn } from 'node:child_process'
import { call, startWorld, withKey, TENANT_A, TENANT_C } from '../helper.js'

/** `promtool check metrics` on text: exit code and what it said. */
async function promtool (text: string): Promise<{ code: number | null, output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const done = new Promise<number | null>((resolve, reject) => { child.on('exit', resolve); child.on('error', reject) })
  child.stdin.end(text)
  return { code: await done, output }
}

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
