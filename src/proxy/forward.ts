import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerHookHandler } from 'fastify'
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { Readable } from 'node:stream'
import { rootCertificates } from 'node:tls'
import { GatewayError } from '../errors.js'
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js'
import { sendUpstreamBody } from './response.js'
import { installBodyStreaming } from './body-limit.js'

export interface ForwardOptions {
  readonly admit: onRequestHookHandler
  readonly prepare: preHandlerHookHandler
  readonly userAgent: string
  readonly trustProxy: boolean
  readonly caPem?: string
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  /** base of rewritten links; the request's own origin when absent */
  readonly publicUrl?: string
  readonly bodyLimitBytes: number
}

const TIMEOUT_CODES = new Set([
  'FST_REPLY_FROM_GATEWAY_TIMEOUT', 'FST_REPLY_FROM_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'
])

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
        ca: options.caPem === undefined ? undefined : [...rootCertificates, options.caPem]
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
      onResponse (request: FastifyRequest, reply: FastifyReply, res: { stream: Readable, headers: Record<string, unknown> }) {
        sendUpstreamBody(request, reply, res.stream, res.headers, options.publicUrl)
      },
      onError (reply: FastifyReply, { error }: { error: Error & { code?: string, cause?: { code?: string } } }) {
        const code = error.cause?.code ?? error.code ?? ''
        const region = reply.request.gw.region?.name ?? 'unknown'
        reply.request.gw.upstreamFailed = code === '' ? error.message : code
        if (reply.request.gw.bodyTooLarge === true) {
          reply.send(new GatewayError('PayloadTooLarge', `The request body is larger than the gateway forwards (${options.bodyLimitBytes} bytes).`))
          return
        }
        reply.send(TIMEOUT_CODES.has(code) || TIMEOUT_CODES.has(error.code ?? '')
          ? new GatewayError('UpstreamTimeout', `Defender (region ${region}) did not answer in time; retry later.`)
          : new GatewayError('UpstreamUnavailable', `Defender (region ${region}) could not be reached (${code || 'connection failed'}); retry later.`))
      }
    },
    handler (request: FastifyRequest, reply: FastifyReply, _dest: string, replyOptions: object) {
      return reply.from(request.gw.upstreamPath, replyOptions)
    }
  }
  // The plugin's callback types cover HTTP/2 servers too; ours is HTTP/1.1 only, hence the cast.
  await app.register(httpProxy, proxyOptions as unknown as FastifyHttpProxyOptions)
}
