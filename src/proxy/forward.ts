import type { FastifyInstance, FastifyReply, onRequestHookHandler, preHandlerHookHandler } from 'fastify'
import type { SecureContext } from 'node:tls'
import type { OverloadReason } from '../observability/overload-metrics.js'
import type { InFlight } from '../pipeline/in-flight.js'
import { installBodyBuffering } from './body-limit.js'
import { createGuard } from './guards.js'
import { createUpstreamOutcomes, type OutcomeDeps } from './outcomes.js'
import { createUpstreamCaller } from './upstream-call.js'

export interface ForwardOptions extends OutcomeDeps {
  readonly admit: onRequestHookHandler
  readonly prepare: preHandlerHookHandler
  readonly userAgent: string
  /** extra trusted CA (trust.caFile), built once */
  readonly tlsContext?: SecureContext
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  /** pooled connections per region */
  readonly connections: number
  readonly inFlight: InFlight
  readonly inFlightLimits: { readonly perClient: number, readonly perTenant: number }
  readonly bodyIdleTimeoutMs: number
  readonly requestDeadlineMs: number
  readonly writeIdleMs: number
  /** counts a request refused or cut off so that it could not starve the others */
  cut (reason: OverloadReason): void
}

// OPTIONS is routed only so that admit answers it (405) like any other method Defender does not take.
const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS']

/**
 * Forwards every admitted request to the region chosen for it: the body is read whole first, the
 * answer streamed back. Hooks decide; the handler only sends what the hooks stored on `request.gw`.
 */
export async function forwardPlugin (app: FastifyInstance, options: ForwardOptions): Promise<void> {
  app.addHook('onRequest', options.admit)
  app.addHook('onRequest', createGuard({ inFlight: options.inFlight, limits: options.inFlightLimits, deadlineMs: options.requestDeadlineMs, cut: options.cut }))
  installBodyBuffering(app, { limit: options.bodyLimitBytes, idleTimeoutMs: options.bodyIdleTimeoutMs, idle: () => { options.cut('body_idle') } })
  // The outcomes may send a request again (failover, replay): they call back into the caller.
  const outcomes = createUpstreamOutcomes(options, (reply: FastifyReply) => upstream.send(reply))
  const upstream = createUpstreamCaller(options, outcomes)
  app.addHook('onClose', async () => { await upstream.close() })
  for (const url of ['/', '/*']) {
    app.route({
      method: METHODS,
      url,
      preHandler: options.prepare,
      handler (_request, reply) { upstream.send(reply) }
    })
  }
}
