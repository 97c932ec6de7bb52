import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { LoadedConfig } from './config/load.js'
import type { GatewayMetrics } from './observability/metrics.js'
import { clientErrorHandler, frameworkErrors, installErrorHandling, refuseConnect } from './pipeline/errors.js'
import { createRecord, REQUEST_ID_FIELD } from './pipeline/record.js'
import { fleetRewrite } from './fleet/index.js'
import { LazyRequestLogger } from './observability/request-logger.js'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The API listener before any room registers: request ids, error mapping, the access record and (with
 * fleet reads and gateway tokens on) the fleet URL rewrite, which fastify takes only at construction.
 */
export function createApiListener (loaded: LoadedConfig, logger: Logger, metrics: GatewayMetrics, fleetRewriteOn: boolean): FastifyInstance {
  const { config, files } = loaded
  const app = Fastify({
    loggerInstance: logger,
    // One access line per request comes from the onResponse hook instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_FIELD }),
    // A request's child logger is built only if it logs (see request-logger.ts).
    childLoggerFactory: (parent, bindings, options) => new LazyRequestLogger(parent as Logger, bindings, options) as unknown as Logger,
    trustProxy: config.server.trustProxy,
    bodyLimit: config.server.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    frameworkErrors,
    clientErrorHandler,
    // While draining, requests on open connections are still served (with Connection: close), not 503'd.
    return503OnClosing: false,
    ...(fleetRewriteOn ? { rewriteUrl: fleetRewrite } : {}),
    ...(files.tls === undefined ? {} : { https: { cert: files.tls.cert, key: files.tls.key.reveal() } })
  }) as unknown as FastifyInstance
  app.decorateRequest('gw', null as never)
  installErrorHandling(app, metrics)
  refuseConnect(app.server)
  app.addHook('onResponse', createRecord(metrics, logger))
  // Every answer of this listener carries its request id (design §3), whichever room answers it.
  app.addHook('onRequest', function requestIdHeader (request, reply, done) { reply.header('x-request-id', request.id); done() })
  return app
}
