import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { GatewayError } from '../errors.js'
import type { OverloadReason } from '../observability/overload-metrics.js'
import type { InFlight } from '../pipeline/in-flight.js'
import { BodyTimeout } from './body-limit.js'

export interface GuardOptions {
  readonly inFlight: InFlight
  readonly limits: { readonly perClient: number, readonly perTenant: number }
  readonly deadlineMs: number
  /** counts a request refused or cut off, by reason */
  cut (reason: OverloadReason): void
}

/**
 * onRequest, after admit: takes the request's in-flight slot for its client and tenant (or refuses it
 * with 429) and arms its overall deadline; both end when the answer is done or the caller goes away (and
 * then its call to Defender is aborted).
 */
export function createGuard (options: GuardOptions): onRequestHookHandler {
  return function guardRequest (request, reply, done) {
    const client = request.gw.client?.name ?? ''
    const tenant = request.gw.tenantId ?? ''
    const refused = options.inFlight.take(client, tenant)
    if (refused !== undefined) {
      options.cut(refused === 'client' ? 'client_in_flight' : 'tenant_in_flight')
      const message = refused === 'client'
        ? `Client '${client}' already has ${options.limits.perClient} requests in flight (server.maxInFlightPerClient)`
        : `Tenant ${tenant} already has ${options.limits.perTenant} requests in flight (server.maxInFlightPerTenant)`
      done(new GatewayError('RateLimited', `${message}; retry after 1 s.`, { 'retry-after': '1' }))
      return
    }
    const deadline = setTimeout(onDeadline, options.deadlineMs, request, reply, options)
    reply.raw.once('close', function releaseSlot () {
      clearTimeout(deadline)
      options.inFlight.release(client, tenant)
      // The caller went away before its answer was done: the call to Defender ends too (waiting for its
      // headers, or a body being collected), or it would hold a pooled connection after the slot is free.
      if (!reply.raw.writableFinished) request.gw.abortUpstream?.()
    })
    done()
  }
}

/**
 * The request outlived server.requestDeadlineMs: a body still arriving gets 408, a request waiting for
 * Defender gets 504 (and the call is aborted), an answer being streamed is cut off.
 */
function onDeadline (request: FastifyRequest, reply: FastifyReply, options: GuardOptions): void {
  const gw = request.gw
  options.cut('request_deadline')
  const where = `within the gateway's deadline (${options.deadlineMs} ms, server.requestDeadlineMs)`
  if (gw.abortBody !== undefined) {
    gw.abortBody(new BodyTimeout(`The request body did not arrive ${where}`))
    return
  }
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy()
    return
  }
  gw.upstreamFailed = 'request deadline'
  for (const name of Object.keys(reply.getHeaders())) if (name !== 'x-request-id') reply.removeHeader(name)
  // The connection ends with this answer: whatever the hooks or a half-read answer still do, the caller
  // is not left waiting on a kept-alive socket.
  reply.header('connection', 'close')
  reply.send(new GatewayError('UpstreamTimeout', `The request did not complete ${where}; retry later.`))
  gw.abortUpstream?.()
  const last = setTimeout(() => { if (!reply.raw.writableEnded) reply.raw.destroy() }, DEADLINE_GRACE_MS)
  last.unref()
}

/** how long the deadline's own 504 may take to go out before the connection is cut instead */
const DEADLINE_GRACE_MS = 1000

/**
 * A `timeout` listener for answers being sent: the caller's socket took no byte for the idle time while
 * bytes wait for it, so it is cut off and Defender's connection goes back to the pool. When nothing waits
 * (Defender itself is slow), the caller is not to blame and the answer goes on.
 */
export function cutIdleReader (cut: (reason: OverloadReason) => void) {
  return function cutIdleWriter (this: ServerResponse): void {
    const socket = this.socket
    if (socket === null || this.writableFinished) return
    if (socket.writableLength === 0 && !this.writableNeedDrain) return
    cut('response_write_idle')
    this.destroy()
  }
}
