import type { FastifyReply, FastifyRequest } from 'fastify'
import { GatewayError } from '../errors.js'
import type { RegionDirectory } from '../regions/directory.js'
import type { TokenProvider } from '../tokens/types.js'
import type { RateBudgets } from '../limits/types.js'
import { parseRetryAfter } from '../limits/retry-after.js'
import { refuseHostileAnswer, sendUpstreamBody, type ResponseOptions } from './response.js'
import { upstreamName } from './upstream-name.js'
import type { UpstreamAnswer } from './upstream-answer.js'
import type { UpstreamOutcomes } from './upstream-call.js'

export interface OutcomeDeps {
  readonly regions: RegionDirectory
  readonly tokens: TokenProvider
  /** the Graph resource's tokens (requests with `gw.api === 'graph'`) */
  readonly graphTokens: TokenProvider
  readonly budgets: RateBudgets
  readonly bodyLimitBytes: number
  readonly responses: ResponseOptions
  failedOver (from: string, to: string): void
}

/** What the outcomes need besides their deps: sending the request again (failover, replay). */
export interface Resend { (reply: FastifyReply): void }

type UpstreamError = Error & { code?: string, cause?: { code?: string } }

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
// Only these may be sent twice: an isolate or a library upload must never run twice.
const IDEMPOTENT = new Set(['GET', 'HEAD'])

/** Both outcomes of a call to Defender; `resend` repeats it to the region now on `request.gw.region`. */
export function createUpstreamOutcomes (deps: OutcomeDeps, resend: Resend): UpstreamOutcomes {
  return {
    failed: createUpstreamErrorHandler(deps, resend),
    answered: createUpstreamResponseHandler(deps, resend),
    refused (reply, answer) {
      // A status code HTTP does not have (600, 999): a broken region, counted like a 5xx, never a success.
      const { gw } = reply.request
      if (gw.api !== 'graph') deps.regions.failed(gw.region?.name ?? 'unknown', `HTTP ${answer.statusCode}`)
      refuseHostileAnswer(reply.request, reply, answer, 'status', deps.responses.metrics)
    }
  }
}

/**
 * Defender could not be reached or did not answer: take the region out of rotation, fail an idempotent
 * request over once to the next-nearest allowed region, else answer 502/504.
 */
function createUpstreamErrorHandler (deps: OutcomeDeps, resend: Resend) {
  return function onUpstreamError (reply: FastifyReply, error: UpstreamError): void {
    const { gw } = reply.request
    const code = error.cause?.code ?? error.code ?? ''
    const region = gw.region?.name ?? 'unknown'
    // Graph is one global host, not a Defender region: it has no health entry and no failover.
    if (gw.api !== 'graph') deps.regions.failed(region, code === '' ? error.message : code)
    const next = gw.fallbacks?.[0]
    if (next !== undefined && gw.failedOver === undefined && IDEMPOTENT.has(reply.request.method) && !reply.sent) {
      gw.failedOver = region
      gw.region = next
      gw.fallbacks = gw.fallbacks?.slice(1)
      deps.failedOver(region, next.name)
      reply.request.log.warn({ from: region, to: next.name, reason: code }, 'failing over to the next region')
      resend(reply)
      return
    }
    gw.upstreamFailed = code === '' ? error.message : code
    reply.send(TIMEOUT_CODES.has(code) || TIMEOUT_CODES.has(error.code ?? '')
      ? new GatewayError('UpstreamTimeout', `${upstreamName(gw.api, region)} did not answer in time; retry later.`)
      : new GatewayError('UpstreamUnavailable', `${upstreamName(gw.api, region)} could not be reached (${code || 'connection failed'}); retry later.`))
  }
}

/**
 * Defender answered. A 401 means it rejected our token, not the caller: purge it, get a fresh one and
 * replay an idempotent request once; anything else (or a second 401) becomes 502, never a caller 401.
 */
function createUpstreamResponseHandler (deps: OutcomeDeps, resend: Resend) {
  return function onUpstreamResponse (reply: FastifyReply, res: UpstreamAnswer): void {
    const request: FastifyRequest = reply.request
    const { gw } = request
    const region = gw.region?.name ?? 'unknown'
    if (gw.api === 'graph') { /* one global host: no region health */ } else if (res.statusCode >= 500) deps.regions.failed(region, `HTTP ${res.statusCode}`)
    else if (gw.upstreamStart !== undefined && gw.upstreamHeadersAt !== undefined) deps.regions.succeeded(region, gw.upstreamHeadersAt - gw.upstreamStart)
    if (res.statusCode === 429) {
      // Defender's own throttle: hold this (tenant, class) so no replica calls until it says.
      const seconds = parseRetryAfter(res.headers['retry-after'])
      // hold() never rejects (RateBudgets contract); the answer need not wait for Redis.
      if (seconds !== undefined) deps.budgets.hold(gw.tenantId as string, gw.route?.rateClass ?? 'default', seconds).catch(() => {})
    }
    if (res.statusCode !== 401) {
      sendUpstreamBody(request, reply, res, deps.responses)
      return
    }
    // The 401's body is not read: the call is aborted (its connection closed) rather than left to a body
    // that may never end while the replay waits for a pooled connection.
    res.abort()
    const tenantId = gw.tenantId as string
    const tokens = gw.api === 'graph' ? deps.graphTokens : deps.tokens
    const api = gw.api === 'graph' ? 'Microsoft Graph' : 'Defender'
    if (gw.replayed === true || !IDEMPOTENT.has(request.method)) {
      tokens.purge(tenantId)
      request.log.error({ tenant: tenantId, replayed: gw.replayed === true, api }, `${api} rejected the tenant token`)
      gw.upstreamFailed = 'upstream 401'
      reply.send(new GatewayError('UpstreamUnavailable', `${api} rejected the gateway's token for tenant ${tenantId}; ${IDEMPOTENT.has(request.method) ? 'a fresh token was rejected too' : 'the request was not repeated'}. Retry later.`))
      return
    }
    gw.replayed = true
    for (const name of Object.keys(res.headers)) if (name !== 'x-request-id') reply.removeHeader(name)
    tokens.refresh(tenantId, request.id).then((token) => {
      gw.token = token
      resend(reply)
    }, (err: Error) => {
      reply.send(new GatewayError('TokenUnavailable', `${err.message}; retry later.`, { 'retry-after': '5' }))
    })
  }
}
