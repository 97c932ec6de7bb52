import type { Dispatcher } from 'undici'
import { grantedByRoles } from '../policy/authorise.js'
import type { RouteSpec } from '../policy/catalogue-data.js'
import { tokenFailure } from '../pipeline/prepare.js'
import type { TenantEntry } from '../pipeline/state.js'
import type { RateBudgets } from '../limits/types.js'
import { parseRetryAfter } from '../limits/retry-after.js'
import type { RegionDirectory } from '../regions/directory.js'
import type { TenantToken, TokenProvider } from '../tokens/types.js'
import { defenderError, fetchWhole, jsonDepthWithin, MAX_JSON_DEPTH, plainEncoding, type WholeAnswer } from './upstream.js'

/** The per-tenant machinery a fleet read reuses: budgets, tokens, regions, one pooled agent. */
export interface TenantReaderDeps {
  readonly budgets: RateBudgets
  readonly tokens: TokenProvider
  readonly regions: RegionDirectory
  readonly agent: Dispatcher
  readonly userAgent: string
  readonly maxPageBytes: number
  consentUrl (tenantId: string): string
  failedOver (from: string, to: string): void
}

/** One page of one tenant to read. */
export interface TenantJob {
  readonly tenant: TenantEntry
  readonly route: RouteSpec
  /** path and query, e.g. `/api/alerts?$top=100&$skip=100` */
  readonly link: string
  readonly client: string
  readonly requestId: string
  readonly signal: AbortSignal
}

/** What reading one tenant's page gave. `final`: retrying cannot help (reported, then the tenant is dropped). */
export type TenantRead =
  | { readonly kind: 'page', readonly body: Record<string, unknown> }
  | { readonly kind: 'failed', readonly code: string, readonly message: string, readonly retryAfter?: number, readonly final: boolean }
  /** out of Defender budget (the gateway's, or Defender's own 429): tried later, never counted as a failure */
  | { readonly kind: 'deferred', readonly source: 'gateway' | 'defender', readonly code: string, readonly message: string, readonly retryAfter: number }

const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * Reads one tenant's page the way a per-tenant request is served: its budget (never waited for), its
 * token (checked tid and roles), its allowed regions with one failover, one replay after a 401.
 * Rejects only when `job.signal` aborts.
 */
export async function readTenant (deps: TenantReaderDeps, job: TenantJob): Promise<TenantRead> {
  const { tenant, route } = job
  const budget = await deps.budgets.take(tenant.id, route.rateClass, job.client, 0)
  if (!budget.ok) {
    return { kind: 'deferred', source: 'gateway', code: 'RateLimited', message: `Tenant ${tenant.id} has used its Defender budget for ${route.rateClass} calls; it is read on a later page.`, retryAfter: budget.retryAfterSeconds }
  }
  let token: TenantToken
  try {
    token = await untilAborted(deps.tokens.get(tenant.id, job.requestId), job.signal)
  } catch (err) {
    if (job.signal.aborted) throw err
    const failure = tokenFailure(err, tenant.id, deps.consentUrl(tenant.id))
    return { kind: 'failed', code: failure.code, message: failure.message, retryAfter: retryOf(failure.headers['retry-after']), final: false }
  }
  if (!grantedByRoles(token.roles, route)) {
    return { kind: 'failed', code: 'PermissionNotGranted', message: `Tenant ${tenant.id} has not granted the gateway's app ${route.permissions.join(' or ')}. A tenant admin can grant it at ${deps.consentUrl(tenant.id)}`, final: false }
  }
  return await callRegions(deps, job, token)
}

async function callRegions (deps: TenantReaderDeps, job: TenantJob, first: TenantToken): Promise<TenantRead> {
  const regions = deps.regions.rank(job.tenant.regions).slice(0, 2)
  if (regions.length === 0) return { kind: 'failed', code: 'UpstreamUnavailable', message: `No Defender region is allowed for tenant ${job.tenant.id}.`, final: true }
  let token = first
  let replayed = false
  for (let i = 0; i < regions.length;) {
    const region = regions[i]!
    const started = performance.now()
    let answer: WholeAnswer
    try {
      answer = await fetchWhole(region, job.link, { agent: deps.agent, userAgent: deps.userAgent, accessToken: token.accessToken, requestId: job.requestId, maxBytes: deps.maxPageBytes, signal: job.signal })
    } catch (err) {
      if (job.signal.aborted) throw err
      const code = (err as { cause?: { code?: string }, code?: string }).cause?.code ?? (err as { code?: string }).code ?? 'connection failed'
      deps.regions.failed(region.name, code)
      if (++i < regions.length) { deps.failedOver(region.name, regions[i]!.name); continue }
      return TIMEOUTS.has(code)
        ? { kind: 'failed', code: 'UpstreamTimeout', message: `Defender (region ${region.name}) did not answer in time.`, final: false }
        : { kind: 'failed', code: 'UpstreamUnavailable', message: `Defender (region ${region.name}) could not be reached (${code}).`, final: false }
    }
    if (answer.status >= 500) {
      deps.regions.failed(region.name, `HTTP ${answer.status}`)
      if (++i < regions.length) { deps.failedOver(region.name, regions[i]!.name); continue }
      return upstreamFailure(answer, job, false)
    }
    deps.regions.succeeded(region.name, performance.now() - started)
    if (answer.status === 401 && !replayed) {
      replayed = true
      try {
        token = await untilAborted(deps.tokens.refresh(job.tenant.id, job.requestId), job.signal)
      } catch (err) {
        if (job.signal.aborted) throw err
        return { kind: 'failed', code: 'TokenUnavailable', message: `${(err as Error).message}; retry later.`, retryAfter: 5, final: false }
      }
      continue
    }
    return answered(deps, job, answer)
  }
  /* c8 ignore next: the loop returns on its last region */
  return { kind: 'failed', code: 'UpstreamUnavailable', message: 'no region answered', final: false }
}

function answered (deps: TenantReaderDeps, job: TenantJob, answer: WholeAnswer): TenantRead {
  if (answer.status === 401) {
    deps.tokens.purge(job.tenant.id)
    return { kind: 'failed', code: 'UpstreamUnavailable', message: `Defender rejected the gateway's token for tenant ${job.tenant.id}, a fresh one too.`, final: false }
  }
  if (answer.status === 429) {
    const seconds = parseRetryAfter(answer.headers['retry-after']) ?? 1
    deps.budgets.hold(job.tenant.id, job.route.rateClass, seconds).catch(() => {})
    const error = defenderError(answer.body)
    return { kind: 'deferred', source: 'defender', code: error?.code ?? 'TooManyRequests', message: error?.message ?? `Defender throttled tenant ${job.tenant.id}.`, retryAfter: seconds }
  }
  // 408 and 409 may pass; any other 4xx (bad query, unknown entity, role missing) would repeat.
  if (answer.status >= 300) return upstreamFailure(answer, job, answer.status !== 408 && answer.status !== 409)
  if (answer.body === undefined) {
    return { kind: 'failed', code: 'UpstreamUnavailable', message: `Tenant ${job.tenant.id} answered a page larger than fleet.maxTenantPageBytes; ask for fewer items ($top).`, final: true }
  }
  if (!jsonDepthWithin(answer.body, MAX_JSON_DEPTH)) {
    return { kind: 'failed', code: 'UpstreamUnavailable', message: `Tenant ${job.tenant.id} answered JSON nested deeper than ${MAX_JSON_DEPTH} levels: its answer is not usable.`, final: true }
  }
  const body = plainEncoding(answer.headers) ? jsonObject(answer.body) : undefined
  if (body === undefined) return { kind: 'failed', code: 'UpstreamUnavailable', message: `Tenant ${job.tenant.id} answered something other than a JSON object.`, final: true }
  return { kind: 'page', body }
}

function upstreamFailure (answer: WholeAnswer, job: TenantJob, final: boolean): TenantRead {
  const error = defenderError(answer.body)
  return {
    kind: 'failed',
    code: error?.code ?? (answer.status >= 500 ? 'UpstreamUnavailable' : 'BadRequest'),
    message: error?.message ?? `Defender answered HTTP ${answer.status} for tenant ${job.tenant.id}.`,
    retryAfter: parseRetryAfter(answer.headers['retry-after']),
    final
  }
}

function jsonObject (body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

function retryOf (value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseRetryAfter(value)
}

async function untilAborted<T> (work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([work, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort!)
  }
}
