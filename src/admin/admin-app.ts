import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { adminNotFound, registerAdminApi, type AdminToken } from './admin-auth.js'
import { registerAdminTenantRoutes, type AdminTenantDeps } from './tenant-routes.js'

export interface AdminOptions {
  readonly registry: Registry
  readonly logger: Logger
  /** true once the gateway listens and until it starts draining */
  isReady (): boolean
  readonly adminToken?: AdminToken
  /** regions as measured, and the order each configured tenant's requests would try them */
  regionsView (): object
  /** tenant status and forced token refresh */
  readonly tenants: AdminTenantDeps
  /** the status pages (src/pages/status), when the admin token is set */
  readonly statusPages?: ((admin: FastifyInstance) => Promise<void>) | undefined
}

/** The admin listener (own port, loopback by default): scrape and probe endpoints, and the admin API. */
export function buildAdminApp (options: AdminOptions): FastifyInstance {
  const logger: FastifyBaseLogger = options.logger.child({ listener: 'admin' })
  const admin = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) })
  // Every answer of this listener carries its request id (design §3): probes, scrapes, pages, admin API.
  admin.addHook('onRequest', function requestIdHeader (request, reply, done) { reply.header('x-request-id', request.id); done() })
  adminNotFound(admin, options.adminToken)
  registerAdminApi(admin, options.adminToken, function adminRoutes (scope) {
    scope.get('/admin/regions', async function regionsView () {
      return options.regionsView()
    })
    registerAdminTenantRoutes(scope, options.tenants)
  })
  if (options.statusPages !== undefined) admin.register(options.statusPages)
  admin.get('/metrics', async function scrape (_request, reply) {
    reply.type(options.registry.contentType)
    return await options.registry.metrics()
  })
  admin.get('/healthz', async function healthz () {
    return { status: 'ok' }
  })
  admin.get('/readyz', async function readyz (_request, reply) {
    if (!options.isReady()) return await reply.code(503).send({ status: 'not ready' })
    return { status: 'ready' }
  })
  return admin
}
