import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'

export interface AdminOptions {
  readonly registry: Registry
  readonly logger: Logger
  /** true once the gateway listens and until it starts draining */
  isReady (): boolean
}

/** The admin listener (own port, loopback by default): scrape and probe endpoints. */
export function buildAdminApp (options: AdminOptions): FastifyInstance {
  const logger: FastifyBaseLogger = options.logger.child({ listener: 'admin' })
  const admin = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) })
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
