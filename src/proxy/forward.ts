import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerHookHandler } from 'fastify'
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { SecureContext } from 'node:tls'
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js'
import { installBodyStreaming } from './body-limit.js'
import { createUpstreamErrorHandler, createUpstreamResponseHandler, type OutcomeDeps } from './outcomes.js'

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

/**
 * Forwards every admitted request to the region chosen for it, streaming both ways. Hooks decide;
 * the per-request callbacks below only read what the hooks stored on `request.gw`.
 */
export async function forwardPlugin (app: FastifyInstance, options: ForwardOptions): Promise<void> {
  app.addHook('onRequest', options.admit)
  installBodyStreaming(app, options.bodyLimitBytes)
  const proxyOptions = {
    upstream: '',
    prefix: '/',
    httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'],
    preHandler: options.prepare,
    // reply-from's own per-request lines; the access line comes from the onResponse hook.
    disableRequestLogging: true,
    proxyPayloads: false,
    // No blind retries: a retried POST could isolate a machine twice; failover decides explicitly.
    retryDelay: () => null,
    undici: {
      connections: 256,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: {
        timeout: options.connectTimeoutMs,
        secureContext: options.tlsContext
      }
    },
    replyOptions: {
      getUpstream: (request: FastifyRequest) => request.gw.region?.url ?? '',
      queryString: (_search: string, _url: string, request: FastifyRequest) => (request.gw.query ?? '').slice(1),
      rewriteRequestHeaders (request: FastifyRequest) {
        request.gw.upstreamStart = performance.now()
        return upstreamRequestHeaders(request.headers, {
          accessToken: request.gw.token?.accessToken ?? '',
          requestId: request.id,
          userAgent: options.userAgent,
          trustProxy: options.trustProxy
        })
      },
      rewriteHeaders (headers: Record<string, unknown>, request: FastifyRequest) {
        request.gw.upstreamHeadersAt = performance.now()
        return downstreamResponseHeaders(headers, request.id)
      },
      onResponse: createUpstreamResponseHandler(options),
      onError: createUpstreamErrorHandler(options)
    },
    handler (request: FastifyRequest, reply: FastifyReply, _dest: string, replyOptions: object) {
      // The upstream is read per attempt (a failover changes it), not fixed when the route runs.
      request.gw.replyOptions = { ...replyOptions, getUpstream: (req: FastifyRequest) => req.gw.region?.url ?? '' }
      return reply.from(request.gw.upstreamPath, request.gw.replyOptions)
    }
  }
  // The plugin's callback types cover HTTP/2 servers too; ours is HTTP/1.1 only, hence the cast.
  await app.register(httpProxy, proxyOptions as unknown as FastifyHttpProxyOptions)
}
