import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { adminNotFound, registerAdminApi, type AdminToken } from '../admin/admin-auth.js'
import { renderError } from '../errors.js'
import { createStatusSessions } from '../pages/status/session.js'
import { askWorker, type AdminCall, type WorkerAnswer } from './forward.js'
import { forwardStatusPages } from './primary-status.js'

/** A worker that can take admin calls: cluster id and private admin port. */
export interface WorkerAdmin { readonly id: number, readonly port: number }

export interface PrimaryAdminOptions {
  readonly logger: Logger
  readonly adminToken?: AdminToken
  /** every worker listens and the primary is not draining */
  isReady (): boolean
  readiness (): { ready: number, of: number }
  scrape (): Promise<string>
  readonly contentType: string
  /** the workers ready to answer admin calls */
  workerAdmins (): readonly WorkerAdmin[]
  readonly forwardTimeoutMs: number
  /** admin.sessionMinutes: the status pages' sessions, checked here before a page is forwarded */
  readonly sessionMinutes: number
}

/**
 * The one admin listener of a cluster (admin.host:admin.port, same token): the aggregated scrape, probes
 * for the whole process group, and the admin API and the status pages forwarded to the workers, which
 * hold the state.
 */
export function buildPrimaryAdmin (options: PrimaryAdminOptions): FastifyInstance {
  const logger: FastifyBaseLogger = options.logger.child({ listener: 'admin' })
  const admin = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) })
  // Every answer of this listener carries its request id (design §3), forwarded or answered here.
  admin.addHook('onRequest', function requestIdHeader (request, reply, done) { reply.header('x-request-id', request.id); done() })
  adminNotFound(admin, options.adminToken)
  admin.get('/metrics', async function scrapeWorkers (request, reply) {
    const text = await options.scrape().catch((err: unknown) => err as Error)
    if (typeof text === 'string') return await reply.type(options.contentType).send(text)
    // A partial sum would look like counters going backwards; no sample at all is the honest answer.
    request.log.warn({ err: text }, 'cluster scrape failed')
    return await reply.code(503).type('text/plain; charset=utf-8').send(`metrics unavailable: ${text.message}\n`)
  })
  admin.get('/healthz', async function healthz () {
    return { status: 'ok' }
  })
  admin.get('/readyz', async function readyz (_request, reply) {
    const workers = options.readiness()
    if (!options.isReady()) return await reply.code(503).send({ status: 'not ready', workers })
    return { status: 'ready', workers }
  })

  registerAdminApi(admin, options.adminToken, (scope) => forwardAdminRoutes(scope, options))
  if (options.adminToken !== undefined) {
    const sessions = createStatusSessions(options.adminToken.reveal(), options.sessionMinutes)
    forwardStatusPages(admin, { sessions, workerAdmins: options.workerAdmins, forwardTimeoutMs: options.forwardTimeoutMs, noWorker })
  }
  return admin
}

/**
 * The admin routes, each forwarded on the path it was matched as (rebuilt from the route and its
 * parameters, plus the query), never on the caller's spelling of it.
 */
function forwardAdminRoutes (scope: FastifyInstance, options: PrimaryAdminOptions): void {
  let turn = 0
  // Reads: any worker can answer (each says which one did); token state is per worker without Redis.
  async function forwardToOne (request: FastifyRequest, reply: FastifyReply, path: string): Promise<void> {
    const targets = options.workerAdmins()
    const target = targets[turn++ % Math.max(1, targets.length)]
    if (target === undefined) return await noWorker(request, reply)
    const answer = await askWorker(target.port, callOf(request, path), options.forwardTimeoutMs)
    await reply.code(answer.status).type(answer.contentType).header('x-gateway-worker', String(target.id)).send(answer.body)
  }
  scope.get('/admin/regions', async function forwardRegions (request, reply) {
    await forwardToOne(request, reply, '/admin/regions')
  })
  scope.get<{ Params: { tenant: string } }>('/admin/tenants/:tenant', async function forwardTenantStatus (request, reply) {
    await forwardToOne(request, reply, `/admin/tenants/${encodeURIComponent(request.params.tenant)}`)
  })

  // A forced refresh must reach every worker: each holds its own token (or its own view of Redis's).
  scope.post<{ Params: { tenant: string } }>('/admin/tenants/:tenant/refresh', async function refreshEveryWorker (request, reply) {
    const targets = options.workerAdmins()
    if (targets.length === 0) return await noWorker(request, reply)
    const call = callOf(request, `/admin/tenants/${encodeURIComponent(request.params.tenant)}/refresh`)
    const answers = await Promise.all(targets.map(async (t) => await askWorker(t.port, call, options.forwardTimeoutMs)))
    const worst = answers.reduce((a, b) => (b.status > a.status ? b : a))
    const workers = answers.map((a, i) => ({ worker: (targets[i] as WorkerAdmin).id, status: a.status }))
    return await reply.code(worst.status).type('application/json; charset=utf-8').send({ ...objectOf(worst), workers })
  })
}

function callOf (request: FastifyRequest, path: string): AdminCall {
  const auth = request.headers.authorization
  const q = request.url.indexOf('?')
  const url = q < 0 ? path : `${path}${request.url.slice(q)}`
  return { method: request.method, url, authorization: typeof auth === 'string' ? auth : undefined, requestId: request.id }
}

function objectOf (answer: WorkerAnswer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(answer.body)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : { body: value }
  } catch {
    return { body: answer.body }
  }
}

async function noWorker (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply.code(502).type('application/json; charset=utf-8').header('x-request-id', request.id)
    .send(renderError('UpstreamUnavailable', 'No gateway worker is ready to answer yet; try again shortly.', request.id))
}
