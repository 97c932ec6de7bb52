import type { RouteSpec } from '../policy/catalogue-data.js'
import type { TenantEntry } from '../pipeline/state.js'
import type { Channel } from './channel.js'
import type { TenantPosition } from './cursor.js'
import type { TenantOutcome } from './metrics.js'
import type { PageDeps, PageInput } from './page.js'
import { fitsTailBudget, type ReadResult } from './plan.js'
import { readTenant, type TenantRead } from './read-tenant.js'
import { itemsOf, itemsText, type PageReport } from './report.js'

/** One page while it runs: what its tenant steps read and write. */
export interface PageRun {
  readonly deps: PageDeps
  readonly input: PageInput
  readonly byId: ReadonlyMap<string, TenantEntry>
  /** every planned tenant's position as it stands (for the cursor's tail budget) */
  readonly positions: Map<string, TenantPosition>
  readonly results: Map<string, ReadResult>
  readonly report: PageReport
  readonly channel: Channel
  /** aborts at the page time or when the caller leaves */
  readonly stop: AbortSignal
  /** Defender's `@odata.context` from the first tenant that gave one */
  context?: string
}

/** One round of reads: whether anything moved on, and who was out of budget. */
export interface Round {
  progressed: boolean
  deferred: Array<{ position: TenantPosition, retryAfter: number }>
}

/** Counts one tenant read's outcome. */
export function count (ctx: PageRun, outcome: TenantOutcome): void {
  ctx.deps.metrics.tenantReads.inc({ outcome })
}

/** Reads one tenant's page and settles it: passed on, deferred, failed or given up. */
export async function readOne (ctx: PageRun, position: TenantPosition, round: Round): Promise<void> {
  const { deps, input, report, results } = ctx
  const tenant = ctx.byId.get(position.tenant)!
  // A tenant deferred earlier in this page and read again: its earlier note no longer holds.
  report.pending = report.pending.filter((p) => p.tenantId !== tenant.id)
  report.failed = report.failed.filter((f) => f.tenantId !== tenant.id)
  const link = position.link ?? input.state.target
  const route = input.routeFor(tenant, link)
  if (typeof route === 'string') {
    giveUp(ctx, position, { code: 'UpstreamUnavailable', message: route })
    return
  }
  const slot = deps.slots.take()
  if (slot === undefined) {
    // Every slot of the process is reading: like a tenant out of budget, this one waits for a later round or page.
    results.set(tenant.id, { tenant: tenant.id, kind: 'kept' })
    report.pending.push({ tenantId: tenant.id, reason: 'busy', retryAfter: 1 })
    round.deferred.push({ position, retryAfter: 1 })
    count(ctx, 'busy')
    return
  }
  try {
    await readHolding(ctx, position, tenant, route, link, round)
  } finally {
    slot() // held until the caller took the items: that is when their memory is free again
  }
}

async function readHolding (ctx: PageRun, position: TenantPosition, tenant: TenantEntry, route: RouteSpec, link: string, round: Round): Promise<void> {
  const { deps, input, report, results } = ctx
  let read: TenantRead
  try {
    read = await readTenant(deps, { tenant, route, link, client: input.client, requestId: input.requestId, signal: ctx.stop })
  } catch {
    return // the page time is up or the caller left: the tenant keeps its position
  }
  if (read.kind === 'deferred') {
    results.set(position.tenant, { tenant: position.tenant, kind: 'kept' })
    if (read.source === 'gateway') report.pending.push({ tenantId: tenant.id, reason: 'budget', retryAfter: read.retryAfter })
    else report.failed.push({ tenantId: tenant.id, error: { code: read.code, message: read.message }, retryAfter: read.retryAfter, willRetry: true })
    round.deferred.push({ position, retryAfter: read.retryAfter })
    count(ctx, 'deferred')
  } else if (read.kind === 'failed') {
    const failures = (position.failures ?? 0) + 1
    if (read.final || failures >= deps.maxTenantFailures) giveUp(ctx, position, read)
    else {
      results.set(position.tenant, { tenant: position.tenant, kind: 'failed' })
      report.failed.push({ tenantId: position.tenant, error: { code: read.code, message: read.message }, ...(read.retryAfter === undefined ? {} : { retryAfter: read.retryAfter }), willRetry: true })
      count(ctx, 'failed')
    }
  } else {
    await passOn(ctx, position, tenant, route, read.body, round)
  }
}

/**
 * Settles a tenant whose step threw (a bug, or an answer the checks did not foresee): reported and given
 * up like an unusable answer, so one tenant can never take the page or the process down with it.
 */
export function stepBroke (ctx: PageRun, position: TenantPosition): void {
  ctx.report.pending = ctx.report.pending.filter((p) => p.tenantId !== position.tenant)
  ctx.report.failed = ctx.report.failed.filter((f) => f.tenantId !== position.tenant)
  giveUp(ctx, position, { code: 'UpstreamUnavailable', message: `Tenant ${position.tenant}: its answer is not usable.` })
}

function giveUp (ctx: PageRun, position: TenantPosition, error: { code: string, message: string }): void {
  const { report, results } = ctx
  results.set(position.tenant, { tenant: position.tenant, kind: 'dropped' })
  report.failed.push({ tenantId: position.tenant, error: { code: error.code, message: error.message }, willRetry: false })
  count(ctx, 'given_up')
}

async function passOn (ctx: PageRun, position: TenantPosition, tenant: TenantEntry, route: RouteSpec, body: Record<string, unknown>, round: Round): Promise<void> {
  const { deps, input, report, results, positions } = ctx
  const next = body['@odata.nextLink']
  const followed = next === undefined ? undefined : input.follow(tenant, next)
  if (followed !== undefined && 'link' in followed && !fitsTailBudget(input.state.target, positions, tenant.id, followed.link)) {
    // Its next position would not fit the cursor: drop this answer unseen and read it again later.
    results.set(tenant.id, { tenant: tenant.id, kind: 'kept' })
    report.pending.push({ tenantId: tenant.id, reason: 'cursor' })
    count(ctx, 'not_read')
    return
  }
  const items = itemsOf(body)
  // Serialised before anything is recorded: if this throws, the tenant's position and report are untouched.
  const text = items.length > 0 ? itemsText(items, tenant.id) : ''
  if (ctx.context === undefined && typeof body['@odata.context'] === 'string' && body['@odata.context'].length <= 1024) ctx.context = body['@odata.context']
  if (followed !== undefined && 'link' in followed) {
    positions.set(tenant.id, { tenant: tenant.id, link: followed.link })
    results.set(tenant.id, { tenant: tenant.id, kind: 'next', link: followed.link })
    report.pending.push({ tenantId: tenant.id, reason: 'more' })
    count(ctx, 'more')
  } else if (followed !== undefined) {
    giveUp(ctx, position, { code: 'UpstreamUnavailable', message: `Tenant ${tenant.id}: ${followed.error}; its items up to here were passed on.` })
  } else {
    results.set(tenant.id, { tenant: tenant.id, kind: 'complete' })
    report.complete.push(tenant.id)
    count(ctx, 'complete')
  }
  round.progressed = true
  report.items += items.length
  deps.metrics.items.inc({ route: route.name }, items.length)
  if (text !== '') await ctx.channel.push(text)
}
