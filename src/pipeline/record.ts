import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { statusClass, type GatewayMetrics } from '../observability/metrics.js'

/**
 * onResponse: one access line per request, an audit line for every state-changing route (allowed or
 * denied), and the request metrics. Labels come from the catalogue, never from the raw path.
 * The access line goes through the root logger with the request id as its first field: the same line
 * the request's child logger would write, without building that child (src/observability/request-logger.ts).
 */
/** the field naming the request id on every line a request logs (fastify's requestIdLogLabel too) */
export const REQUEST_ID_FIELD = 'requestId'

export function createRecord (metrics: GatewayMetrics, logger: Logger) {
  return function record (request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    const state = request.gw ?? {}
    const status = reply.statusCode
    const cls = statusClass(status)
    const route = state.route?.name ?? 'unmatched'
    const region = state.region?.name ?? 'none'
    const client = state.client?.name ?? 'anonymous'
    const forwarded = state.upstreamStart !== undefined
    const upstreamMs = forwarded && state.upstreamHeadersAt !== undefined
      ? Math.round((state.upstreamHeadersAt - state.upstreamStart!) * 100) / 100
      : undefined
    const tenant = metrics.tenantLabel ? { tenant: state.tenantId ?? 'none' } : {}
    metrics.requests.inc({ route, method: request.method, status_class: cls, client, region, ...tenant })
    metrics.requestDuration.observe({ route, method: request.method, status_class: cls, ...tenant }, reply.elapsedTime / 1000)
    if (upstreamMs !== undefined) {
      metrics.upstreamDuration.observe({ route, region, status_class: cls }, upstreamMs / 1000)
    }
    const line = {
      requestId: request.id,
      client,
      tenant: state.tenantId,
      route,
      method: request.method,
      status,
      region: state.region?.name,
      upstreamMs,
      upstreamFailed: state.upstreamFailed,
      error: state.denied,
      ms: Math.round(reply.elapsedTime * 100) / 100
    }
    logger.info(line, 'request')
    if (state.route?.writes === true) {
      request.log.info({
        audit: true,
        client,
        tenant: state.tenantId,
        route,
        permission: state.permission,
        decision: forwarded ? 'forwarded' : 'refused',
        status,
        upstreamStatus: forwarded && state.upstreamFailed === undefined ? status : undefined,
        defenderTarget: state.writeOutcome?.target,
        defenderId: state.writeOutcome?.id,
        denied: forwarded ? undefined : state.denied
      }, 'audit')
    }
    done()
  }
}
