import type { FastifyReply, FastifyRequest } from 'fastify'
import { statusClass, type GatewayMetrics } from '../observability/metrics.js'

/**
 * onResponse: one access line per request, an audit line for every state-changing route (allowed or
 * denied), and the request metrics. Labels come from the catalogue, never from the raw path.
 */
export function createRecord (metrics: GatewayMetrics) {
  // prom-client sorts and hashes the label object on every call; the label sets seen are few (catalogue
  // routes x clients x regions), so each labelled series is looked up once and kept.
  const series = new Map<string, { requests: { inc (): void }, duration: { observe (v: number): void } }>()
  const upstreamSeries = new Map<string, { observe (v: number): void }>()
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
    const key = `${route} ${request.method} ${cls} ${client} ${region} ${tenant.tenant ?? ''}`
    let labelled = series.get(key)
    if (labelled === undefined) {
      labelled = {
        requests: metrics.requests.labels({ route, method: request.method, status_class: cls, client, region, ...tenant }),
        duration: metrics.requestDuration.labels({ route, method: request.method, status_class: cls, ...tenant })
      }
      series.set(key, labelled)
    }
    labelled.requests.inc()
    labelled.duration.observe(reply.elapsedTime / 1000)
    if (upstreamMs !== undefined) {
      const upstreamKey = `${route} ${region} ${cls}`
      let upstream = upstreamSeries.get(upstreamKey)
      if (upstream === undefined) {
        upstream = metrics.upstreamDuration.labels({ route, region, status_class: cls })
        upstreamSeries.set(upstreamKey, upstream)
      }
      upstream.observe(upstreamMs / 1000)
    }
    const line = {
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
    request.log.info(line, 'request')
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
