import type { SecureContext } from 'node:tls'
import type { FastifyReply } from 'fastify'
import { Agent, type Dispatcher } from 'undici'
import { GatewayError } from '../errors.js'
import type { OverloadReason } from '../observability/overload-metrics.js'
import { boundedReadConnector } from './bounded-reads.js'
import { cutIdleReader } from './guards.js'
import { downstreamResponseHeaders, GRAPH_FORWARDED, upstreamRequestHeaders } from './headers.js'
import { UpstreamAnswer, type AnswerEvents } from './upstream-answer.js'
import { upstreamName } from './upstream-name.js'

export interface UpstreamCallOptions {
  readonly userAgent: string
  /** extra trusted CA (trust.caFile), built once */
  readonly tlsContext?: SecureContext
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  /** pooled connections per region */
  readonly connections: number
  /** a caller that takes no byte of a pending answer for this long is cut off */
  readonly writeIdleMs: number
  cut (reason: OverloadReason): void
}

export interface UpstreamOutcomes {
  /** Defender's status and headers are on the reply; the body is to be taken in this same tick (upstream-answer.ts) */
  answered (reply: FastifyReply, answer: UpstreamAnswer): void
  failed (reply: FastifyReply, error: Error & { code?: string }): void
  /** Defender's final status is outside 200-599: its answer is refused unread (502), nothing of it is passed on */
  refused (reply: FastifyReply, answer: UpstreamAnswer): void
}

export interface UpstreamCaller {
  /** sends the request to the region on `request.gw.region` (again, for a failover or a replay) */
  send (reply: FastifyReply): void
  close (): Promise<void>
}

/**
 * The request to Defender, straight on undici's pooled keep-alive connections: one call per attempt,
 * dispatched with a handler of our own (upstream-answer.ts), no per-request retry or URL machinery (a
 * generic proxy layer here cost more CPU per request than everything else the gateway does; see the
 * closing notes of issue 9, and issue 16 for undici's request() layer).
 */
export function createUpstreamCaller (options: UpstreamCallOptions, outcomes: UpstreamOutcomes): UpstreamCaller {
  const agent = new Agent({
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    // Big answers to slow callers: see bounded-reads.ts (undici's resume copies the socket's whole buffer).
    connect: boundedReadConnector({ timeout: options.connectTimeoutMs, ...(options.tlsContext === undefined ? {} : { secureContext: options.tlsContext }) })
  })
  const bases = new Map<string, { origin: string, path: string }>()
  const baseOf = (url: string): { origin: string, path: string } => {
    let base = bases.get(url)
    if (base === undefined) {
      const parsed = new URL(url)
      base = { origin: parsed.origin, path: parsed.pathname.replace(/\/+$/, '') }
      bases.set(url, base)
    }
    return base
  }
  const cutIdleWriter = cutIdleReader(options.cut)
  const events: AnswerEvents<FastifyReply> = {
    answered (reply, answer) {
      const request = reply.request
      request.gw.upstreamHeadersAt = performance.now()
      if (request.raw.aborted || reply.raw.destroyed || reply.sent) {
        // The caller went away (or the deadline answered) while Defender worked: free the connection.
        answer.abort()
        return
      }
      // A status HTTP does not have (undici passes on any three digits): not ours to pass on, and one
      // fastify would refuse to send.
      if (answer.statusCode > 599) {
        outcomes.refused(reply, answer)
        return
      }
      reply.code(answer.statusCode)
      reply.headers(downstreamResponseHeaders(answer.headers, request.id) as Record<string, string | string[]>)
      // The caller's body was not read to the end: its connection cannot carry another request.
      if (!request.raw.complete) reply.header('connection', 'close')
      // From here on the caller must keep reading, or it gives Defender's connection back.
      if (reply.raw.listenerCount('timeout') === 0) reply.raw.setTimeout(options.writeIdleMs, cutIdleWriter)
      outcomes.answered(reply, answer)
    },
    failed (reply, err) {
      // A caller that hung up mid-upload fails the call too: that says nothing about the region.
      if (reply.request.raw.aborted || reply.raw.destroyed) reply.request.gw.upstreamFailed = 'caller went away'
      else if (!reply.sent) outcomes.failed(reply, err)
    },
    broken (reply, err) {
      // A bug of ours while taking Defender's answer: this request ends, the process and the region do not.
      const request = reply.request
      request.log.error({ err }, 'handling Defender\'s answer failed')
      request.gw.upstreamFailed = 'gateway error'
      if (reply.raw.destroyed) return
      if (reply.sent || reply.raw.headersSent) {
        reply.raw.destroy()
        return
      }
      for (const name of Object.keys(reply.getHeaders())) if (name !== 'x-request-id') reply.removeHeader(name)
      reply.send(new GatewayError('UpstreamUnavailable', `The gateway could not pass on ${upstreamName(request.gw.api, request.gw.region?.name ?? 'unknown')}'s answer; retry later.`))
    }
  }

  function send (reply: FastifyReply): void {
    const request = reply.request
    const gw = request.gw
    // The deadline may have answered (or the caller left) while the hooks still worked: call nobody.
    if (reply.sent || reply.raw.destroyed) return
    const base = baseOf(gw.region?.url ?? '')
    // Bodies arrive whole (body-limit.ts), so a slow uploader never holds a pooled connection.
    const body = Buffer.isBuffer(request.body) ? request.body : undefined
    const answer = new UpstreamAnswer(reply, events)
    gw.abortUpstream = () => { answer.abort() }
    gw.upstreamStart = performance.now()
    gw.upstreamHeadersAt = undefined
    const call: Dispatcher.DispatchOptions = {
      origin: base.origin,
      path: `${base.path}${gw.upstreamPath ?? '/'}${gw.query ?? ''}`,
      method: request.method as Dispatcher.HttpMethod,
      headers: upstreamRequestHeaders(request.headers, {
        accessToken: gw.token?.accessToken ?? '',
        extra: gw.api === 'graph' ? GRAPH_FORWARDED : undefined,
        requestId: request.id,
        userAgent: options.userAgent
      }) as Record<string, string | string[]>,
      body
    }
    agent.dispatch(call, answer)
  }

  return { send, close: async () => { await agent.close() } }
}
