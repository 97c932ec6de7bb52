import t from 'tap'
import { promtool } from '../promtool.js'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { call, findSecrets, ADMIN_TOKEN, CLIENT_SECRET, TENANT_A } from '../helper.js'
import { startGatewayProcess, startOpsWorld, type GatewayProcess, type OpsWorld } from '../operations-helper.js'
import { until } from '../redis-clients.js'

/**
 * server.workers: 2, as operators run it (`node src/server.ts serve`): one primary, two workers sharing
 * the API port, one admin listener. The tests run in order against one process group; the budget test
 * starts its own.
 */

let ops: OpsWorld
let gw: GatewayProcess
const env = { GW_SECRET: CLIENT_SECRET, GW_ADMIN: ADMIN_TOKEN }
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
const clusterConfig = (extra: Record<string, unknown> = {}): Record<string, unknown> => {
  const base = ops.config()
  return { ...base, server: { ...base.server, workers: 2 }, admin: { ...base.admin, token: { fromEnv: 'GW_ADMIN' } }, ...extra }
}

t.before(async () => {
  ops = await startOpsWorld()
  const file = await ops.writeConfig()
  await writeFile(file, stringify(clusterConfig()))
  gw = await startGatewayProcess(file, env)
})
t.teardown(async () => {
  await gw?.stop()
  await ops?.close()
})

type Line = Record<string, any>
function lines (p: GatewayProcess): Line[] {
  return p.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line)
}
const accessPids = (p: GatewayProcess, status?: number): number[] =>
  lines(p).filter((l) => l.msg === 'request' && (status === undefined || l.status === status)).map((l) => l.pid as number)
const workerPids = (p: GatewayProcess): number[] => lines(p).filter((l) => l.msg === 'worker listening').map((l) => l.pid as number)
const alerts = async (p: GatewayProcess, key = ops.key): Promise<number> =>
  (await call(p.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: { 'x-api-key': key } })).status
/** An access line is written after its answer is sent: waits until `count` of them are in. */
async function accessLines (p: GatewayProcess, count: number): Promise<void> {
  await p.waitFor(() => accessPids(p).length >= count, `${count} access lines`)
}
/** Waits until a worker not in `known` logs that it listens, and returns its pid. */
async function newWorker (p: GatewayProcess, known: ReadonlySet<number>): Promise<number> {
  const fresh = (): number | undefined => workerPids(p).find((pid) => !known.has(pid))
  await p.waitFor(() => fresh() !== undefined, 'a replacement worker')
  return fresh() as number
}

/** Sum of every sample of a metric in a scrape (all label sets). */
function total (scrape: string, name: string): number {
  return [...scrape.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0)
}

t.test('two worker processes answer on one port; the primary serves none itself', async (t) => {
  const ready = await call(gw.adminUrl, '/readyz')
  t.equal(ready.status, 200)
  t.same(ready.json().workers, { ready: 2, of: 2 })
  // Readiness comes over IPC, the workers' "listening" lines over their stdout: on a loaded machine the
  // second line can arrive after /readyz already says 2 of 2.
  await gw.waitFor(() => new Set(workerPids(gw)).size >= 2, 'both workers logged that they listen')
  const workers = new Set(workerPids(gw))
  t.equal(workers.size, 2, 'two workers listened')
  t.notOk(workers.has(gw.child.pid!), 'neither is the primary')
  // A new connection per request: cluster's round robin hands them to the workers in turn.
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) statuses.push(await alerts(gw))
  t.same(statuses, Array(20).fill(200))
  await accessLines(gw, 20)
  const served = new Set(accessPids(gw))
  t.same([...served].sort(), [...workers].sort(), 'both workers served requests, and only workers did')
})

t.test('one /metrics sums every worker and lints clean', async (t) => {
  const scrape = await call(gw.adminUrl, '/metrics')
  t.equal(scrape.status, 200)
  t.equal(total(scrape.text, 'defender_gateway_requests_total'), 20, 'every request counted once, whichever worker served it')
  t.equal(total(scrape.text, 'defender_gateway_build_info'), 1, 'gauges use their own aggregator (max), not a sum')
  t.equal(total(scrape.text, 'defender_gateway_workers_ready'), 2)
  t.equal(total(scrape.text, 'defender_gateway_worker_restarts_total'), 0)
  const { code, output } = await promtool(scrape.text)
  t.equal(code, 0, `promtool check metrics: ${output.trim() || 'clean'}`)
})

t.test('the admin API sits behind the admin token on the primary and is answered by the workers', async (t) => {
  t.equal((await call(gw.adminUrl, '/admin/regions')).status, 401, 'no token')
  t.equal((await call(gw.adminUrl, '/admin/regions', { headers: { authorization: 'Bearer wrong' } })).status, 401, 'wrong token')
  const answered = new Set<string>()
  for (let i = 0; i < 2; i++) {
    const regions = await call(gw.adminUrl, '/admin/regions', { headers: admin })
    t.equal(regions.status, 200)
    t.same(regions.json().regions.map((r: { name: string }) => r.name), ['eu'])
    answered.add(String(regions.headers['x-gateway-worker']))
  }
  t.equal(answered.size, 2, 'reads go to the workers in turn, and say which one answered')
  const status = await call(gw.adminUrl, '/admin/tenants/contoso', { headers: admin })
  t.equal(status.status, 200)
  t.equal(status.json().id, TENANT_A)
  const refresh = await call(gw.adminUrl, '/admin/tenants/contoso/refresh', { method: 'POST', headers: admin })
  t.equal(refresh.status, 200)
  t.equal(refresh.json().refreshed, true)
  t.same(refresh.json().workers.map((w: { status: number }) => w.status), [200, 200], 'a forced refresh reaches every worker')
  t.equal((await call(gw.adminUrl, '/admin/tenants/nobody', { headers: admin })).status, 404)
})

t.test('a killed worker is replaced and traffic keeps flowing', async (t) => {
  const [victim, survivor] = workerPids(gw)
  process.kill(victim!, 'SIGKILL')
  const replacement = await newWorker(gw, new Set([victim!, survivor!]))
  t.ok(replacement, 'a third worker process listened')
  await gw.waitFor(() => lines(gw).some((l) => l.msg?.startsWith('worker exited unexpectedly')), 'the restart line')
  const exited = lines(gw).find((l) => l.msg?.startsWith('worker exited unexpectedly'))
  t.match(exited, { pid: victim, signal: 'SIGKILL', role: 'primary' }, 'the primary logged the death and the restart')
  // The replacement tells the primary over IPC; its log line may be read first.
  t.ok(await until(async () => (await call(gw.adminUrl, '/readyz')).status === 200), 'ready again with two workers')
  const before = accessPids(gw).length
  const statuses: number[] = []
  for (let i = 0; i < 10; i++) statuses.push(await alerts(gw))
  t.same(statuses, Array(10).fill(200))
  await accessLines(gw, before + 10)
  t.ok(accessPids(gw).slice(before).includes(replacement!), 'the replacement serves')
  const scrape = await call(gw.adminUrl, '/metrics')
  t.equal(total(scrape.text, 'defender_gateway_worker_restarts_total'), 1)
})

t.test('SIGHUP: the primary checks the file first; workers reload only a valid one', async (t) => {
  const file = await ops.writeConfig()
  const reloaded = (): number => lines(gw).filter((l) => l.msg?.startsWith('config reloaded')).length
  await writeFile(file, 'identity: { clientId: broken }\n')
  gw.child.kill('SIGHUP')
  await gw.waitFor((out) => out.includes('reload rejected'), 'the rejected reload')
  t.match(lines(gw).find((l) => l.msg?.startsWith('reload rejected')), { role: 'primary', msg: /identity\.clientId/ })
  t.equal(reloaded(), 0, 'no worker was asked to reload an invalid file')
  const newKey = 'cluster-client-key-0123456789abcdef'
  const base = clusterConfig()
  await writeFile(file, stringify({ ...base, clients: [...(base.clients as unknown[]), { name: 'soar', keySha256: createHash('sha256').update(newKey).digest('hex'), tenants: ['contoso'], permissions: ['Alert.Read.All'] }] }))
  gw.child.kill('SIGHUP')
  await gw.waitFor(() => reloaded() >= 2, 'both workers reloading')
  t.equal(reloaded(), 2, 'both workers reloaded')
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push(await alerts(gw, newKey))
  t.same(statuses, Array(6).fill(200), 'the new client works on every worker')
  // A replacement starts from the start config plus the last valid reload, like its peers.
  const [victim] = [...new Set(accessPids(gw))].slice(-1)
  const before = new Set(workerPids(gw))
  process.kill(victim!, 'SIGKILL')
  const replacement = await newWorker(gw, before)
  t.ok(replacement, 'replaced')
  const seen = accessPids(gw).length
  const after: number[] = []
  for (let i = 0; i < 6; i++) after.push(await alerts(gw, newKey))
  t.same(after, Array(6).fill(200), 'the new client works on the replacement too')
  await accessLines(gw, seen + 6)
  t.ok(accessPids(gw).slice(seen).includes(replacement!), 'the replacement answered some of them')
})

t.test('SIGTERM: every worker drains, then the primary exits 0 and nothing is left', async (t) => {
  const workers = [...new Set(workerPids(gw))]
  gw.child.kill('SIGTERM')
  t.equal(await gw.exited, 0, 'exit code 0')
  const alive = workers.filter((pid) => {
    try { process.kill(pid, 0); return true } catch { return false }
  })
  t.same(alive, [], 'no worker process outlives the primary')
  t.equal(lines(gw).filter((l) => l.msg?.startsWith('draining') && l.role === 'worker').length, 2, 'each live worker drained')
  const refused = async (url: string): Promise<string> => await call(url, '/healthz').then(() => 'answered', (err: NodeJS.ErrnoException) => err.code ?? 'error')
  t.equal(await refused(gw.url), 'ECONNREFUSED')
  t.equal(await refused(gw.adminUrl), 'ECONNREFUSED')
  t.same(findSecrets(gw.output().split('\n'), [CLIENT_SECRET, ADMIN_TOKEN, ops.key]), [], 'no secret, key or token in the output')
})

t.test('without Redis each worker keeps its part of a budget: perMinute 4 over 2 workers is 2 each', async (t) => {
  const file = await ops.writeConfig()
  await writeFile(file, stringify(clusterConfig({ limits: { maxWaitMs: 0, classes: { default: { perMinute: 4, perHour: 1000 } } } })))
  const budgeted = await startGatewayProcess(file, env)
  t.teardown(async () => { await budgeted.stop() })
  const seen = (): Map<number, number> => {
    const counts = new Map<number, number>()
    for (const pid of accessPids(budgeted)) counts.set(pid, (counts.get(pid) ?? 0) + 1)
    return counts
  }
  // Until each worker has been asked at least three times (more than its part), whatever the order.
  let sent = 0
  for (; sent < 40 && !(seen().size === 2 && [...seen().values()].every((n) => n >= 3)); sent++) await alerts(budgeted)
  t.ok(sent < 40, `${sent} requests reached both workers three times or more`)
  await accessLines(budgeted, sent)
  const allowed = accessPids(budgeted, 200)
  t.equal(allowed.length, 4, 'all of the configured 4 per minute, and never more')
  t.same([...new Set(allowed)].map((pid) => allowed.filter((p) => p === pid).length), [2, 2], 'two from each worker')
  t.equal(accessPids(budgeted, 429).length, sent - 4, 'the rest were refused with 429')
  const scrape = await call(budgeted.adminUrl, '/metrics')
  t.equal(Number(/defender_gateway_rate_budget_decisions_total\{[^}]*outcome="allowed"[^}]*\} (\S+)/.exec(scrape.text)?.[1]), 4, 'the aggregated decisions agree')
  budgeted.child.kill('SIGTERM')
  t.equal(await budgeted.exited, 0)
})
