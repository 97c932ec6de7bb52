import type { FastifyInstance, FastifyReply, onRequestHookHandler, preHandlerHookHandler } from 'fastify'
import type { SecureContext } from 'node:tls'
import { installBodyStreaming } from './body-limit.js'
import { createUpstreamOutcomes, type OutcomeDeps } from './outcomes.js'
import { createUpstreamCaller } from './upstream-call.js'

export interface ForwardOptions extends OutcomeDeps {
  readonly admit: onRequestHookHandler
  readonly prepare: preHandlerHookHandler
  readonly userAgent: string
  readonly trustProxy: boolean
  /** extra trusted CA (trust.caFile), built once */
  readonly tlsContext?: SecureContext
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
}

// OPTIONS is routed only so that admit answers it (405) like any other method Defender does not take.
const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS']

/**
 * Forwards every admitted request to the region chosen for it, streaming both ways. Hooks decide;
 * the handler only sends what the hooks stored on `request.gw`.
 */
export async function forwardPlugin (app: FastifyInstance, options: ForwardOptions): Promise<void> {
  app.addHook('onRequest', options.admit)
  installBodyStreaming(app, options.bodyLimitBytes)
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
