import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { registerAdminApi } from '../../src/admin/admin-auth.js'
import { buildPrimaryAdmin, type PrimaryAdminOptions, type WorkerAdmin } from '../../src/cluster/primary-admin.js'
import { call, ADMIN_TOKEN } from '../helper.js'

/**
 * The cluster primary's admin listener against stand-in workers (real sockets, port 0): what it
 * answers itself, what it forwards where, and how it reports workers that fail.
 */

const token = { reveal: () => ADMIN_TOKEN }
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }

/** A worker's private admin listener, reduced to what the primary forwards to it. */
async function standIn (id: number, refreshStatus = 200): Promise<{ app: FastifyInstance, admin: WorkerAdmin, seen: string[] }> {
  const app = Fastify()
  const seen: string[] = []
  app.addHook('onRequest', async (request) => { seen.push(`${request.method} ${request.url}`) })
  registerAdminApi(app, token, (scope) => {
    scope.get('/admin/regions', async () => ({ answeredBy: id }))
    scope.get('/admin/tenants/:tenant', async (request) => ({ id: (request.params as { tenant: string }).tenant, answeredBy: id }))
    scope.post('/admin/tenants/:tenant/refresh', async (_request, reply) => await reply.code(refreshStatus).send({ refreshed: refreshStatus === 200, answeredBy: id }))
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, admin: { id, port: (app.server.address() as { port: number }).port }, seen }
}

async function primary (t: Test, overrides: Partial<PrimaryAdminOptions>): Promise<string> {
  const admin = buildPrimaryAdmin({
    logger: pino({ level: 'silent' }),
    adminToken: token,
    isReady: () => true,
    readiness: () => ({ ready: 2, of: 2 }),
    scrape: async () => 'defender_gateway_workers_ready 2\n',
    contentType: 'text/plain; version=0.0.4; charset=utf-8',
    workerAdmins: () => [],
    forwardTimeoutMs: 2000,
    sessionMinutes: 480,
    ...overrides
  })
  t.teardown(async () => { await admin.close() })
  return await admin.listen({ host: '127.0.0.1', port: 0 })
}

t.test('probes and the scrape are answered by the primary itself', async (t) => {
  let ready = false
  const url = await primary(t, { isReady: () => ready, readiness: () => ({ ready: ready ? 2 : 1, of: 2 }) })
  t.equal((await call(url, '/healthz')).status, 200)
  const starting = await call(url, '/readyz')
  t.equal(starting.status, 503)
  t.same(starting.json(), { status: 'not ready', workers: { ready: 1, of: 2 } })
  ready = true
  t.equal((await call(url, '/readyz')).status, 200)
  const scrape = await call(url, '/metrics')
  t.equal(scrape.status, 200)
  t.equal(scrape.text, 'defender_gateway_workers_ready 2\n')
  t.match(scrape.headers['content-type'], 'text/plain; version=0.0.4')
})

t.test('a scrape a worker did not answer is a 503, never a partial sum', async (t) => {
  const url = await primary(t, { scrape: async () => { throw new Error('worker(s) 2 sent no metrics within 4000 ms') } })
  const scrape = await call(url, '/metrics')
  t.equal(scrape.status, 503)
  t.match(scrape.text, 'worker(s) 2 sent no metrics')
})

t.test('admin reads need the token, then go to one worker at a time', async (t) => {
  const workers = [await standIn(1), await standIn(2)]
  t.teardown(async () => { for (const w of workers) await w.app.close() })
  const url = await primary(t, { workerAdmins: () => workers.map((w) => w.admin) })
  t.equal((await call(url, '/admin/regions')).status, 401)
  t.same(workers.flatMap((w) => w.seen), [], 'refused before any worker is asked')
  const first = await call(url, '/admin/regions?x=1', { headers: auth })
  const second = await call(url, '/admin/tenants/contoso', { headers: auth })
  t.same([first.status, second.status], [200, 200])
  t.same([first.json().answeredBy, second.json().answeredBy], [1, 2], 'in turn')
  t.same([first.headers['x-gateway-worker'], second.headers['x-gateway-worker']], ['1', '2'], 'and each says which worker answered')
  t.same(workers[0]!.seen, ['GET /admin/regions?x=1'], 'path and query passed on')
})

t.test('a forced refresh goes to every worker; the worst answer sets the status', async (t) => {
  const workers = [await standIn(1), await standIn(2, 503)]
  t.teardown(async () => { for (const w of workers) await w.app.close() })
  const url = await primary(t, { workerAdmins: () => workers.map((w) => w.admin) })
  const refresh = await call(url, '/admin/tenants/contoso/refresh', { method: 'POST', headers: auth })
  t.equal(refresh.status, 503)
  t.same(refresh.json(), { refreshed: false, answeredBy: 2, workers: [{ worker: 1, status: 200 }, { worker: 2, status: 503 }] })
})

t.test('no worker ready, or a worker gone: 502 UpstreamUnavailable in the gateway error shape', async (t) => {
  const gone = await standIn(7)
  await gone.app.close()
  let targets: WorkerAdmin[] = []
  const url = await primary(t, { workerAdmins: () => targets })
  for (const [method, path] of [['GET', '/admin/regions'], ['POST', '/admin/tenants/contoso/refresh']] as const) {
    const none = await call(url, path, { method, headers: auth })
    t.equal(none.status, 502, `${method} ${path} with no worker`)
    t.equal(none.json().error.code, 'UpstreamUnavailable')
    t.equal(none.json().error.target, none.headers['x-request-id'], 'the primary\'s request id, in body and header')
  }
  targets = [gone.admin]
  const read = await call(url, '/admin/regions', { headers: auth })
  t.equal(read.status, 502)
  t.match(read.json().error.message, 'ECONNREFUSED')
  const refresh = await call(url, '/admin/tenants/contoso/refresh', { method: 'POST', headers: auth })
  t.equal(refresh.status, 502)
  t.same(refresh.json().workers, [{ worker: 7, status: 502 }])
})
