import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RouteSpec } from '../policy/catalogue-data.js'
import type { TenantEntry } from '../pipeline/state.js'
import { createChannel } from './channel.js'
import type { CursorState, TenantPosition } from './cursor.js'
import type { FleetMetrics } from './metrics.js'
import type { Slots } from './slots.js'
import { nextActive, planPage, type ReadResult } from './plan.js'
import type { TenantReaderDeps } from './read-tenant.js'
import { newReport, pageEnd, type PageReport } from './report.js'
import { count, readOne, stepBroke, type PageRun, type Round } from './tenant-step.js'

/** Limits of one page (fleet config) and where its numbers go. */
export interface PageDeps extends TenantReaderDeps {
  readonly concurrency: number
  readonly window: number
  readonly pageTimeoutMs: number
  readonly maxTenantFailures: number
  readonly metrics: FleetMetrics
  /** shared by every page of the process */
  readonly slots: Slots
}

/** One fleet page to serve: who asks, for what, across which tenants, from where. */
export interface PageInput {
  readonly client: string
  /** eligible tenants, sorted by id */
  readonly tenants: readonly TenantEntry[]
  readonly state: CursorState
  readonly requestId: string
  /** aborts when the caller goes away */
  readonly signal: AbortSignal
  /** the catalogue route a link reads in a tenant, authorised for this client there; a string says why not */
  routeFor (tenant: TenantEntry, link: string): RouteSpec | string
  /** a Defender nextLink as a link the gateway will follow, or why it will not */
  follow (tenant: TenantEntry, nextLink: unknown): { link: string } | { error: string }
  /** the page's own nextLink for the state after it */
  nextLink (state: CursorState): string
  /** called once the page is fully written or abandoned */
  finished (report: PageReport): void
}

/**
 * Streams one fleet page: tenants are read `concurrency` at a time and each tenant's items are written
 * as soon as that tenant answers; the report and nextLink close the page when every planned tenant has
 * answered or the page time is up. A tenant's items are written whole or not at all, and its position
 * advances only when they were, so following nextLinks gives every item exactly once.
 */
export function runPage (deps: PageDeps, input: PageInput): Readable {
  const started = performance.now()
  const plan = planPage(input.tenants.map((t) => t.id), input.state, deps.window)
  const byId = new Map(input.tenants.map((t) => [t.id, t]))
  const positions = new Map(plan.reads.map((p) => [p.tenant, p]))
  const results = new Map<string, ReadResult>()
  const report = newReport(input.tenants.length)
  const stop = new AbortController()
  const abandon = (): void => { stop.abort(); channel.close() }
  input.signal.addEventListener('abort', abandon, { once: true })
  const timer = setTimeout(() => { stop.abort() }, deps.pageTimeoutMs)
  const channel = createChannel()
  const run: PageRun = { deps, input, byId, positions, results, report, channel, stop: stop.signal }
  for (const { tenant } of plan.gone) {
    report.failed.push({ tenantId: tenant, error: { code: 'TenantNotAllowed', message: `Client '${input.client}' may no longer read tenant ${tenant} this way (the configuration changed); it is left out of the rest of this iteration.` }, willRetry: false })
    count(run, 'given_up')
  }

  const step = async (position: TenantPosition, round: Round): Promise<void> => {
    try {
      await readOne(run, position, round)
    } catch {
      stepBroke(run, position)
    }
  }
  // Never rejects (each step settles its own tenant), and is awaited by the body whatever the caller does.
  const done = readRounds(plan.reads, deps, stop.signal, step).catch(() => {}).finally(() => {
    clearTimeout(timer)
    channel.close()
  })

  async function * body (): AsyncGenerator<string> {
    try {
      yield '{"value":['
      let first = true
      for await (const text of channel.drain()) {
        yield first ? text : `,${text}`
        first = false
      }
      await done
      yield closing()
    } finally {
      abandon()
      input.signal.removeEventListener('abort', abandon)
      deps.metrics.pageDuration.observe((performance.now() - started) / 1000)
      input.finished(report)
    }
  }

  function closing (): string {
    for (const position of plan.reads) {
      if (!results.has(position.tenant)) {
        report.pending.push({ tenantId: position.tenant, reason: 'time' })
        count(run, 'not_read')
      }
    }
    const active = nextActive(plan.reads, results)
    const dropped = plan.reads.length - active.length
    Object.assign(report, { done: plan.done + dropped, inProgress: active.length, notStarted: plan.notStarted })
    const last = active.length === 0 && plan.notStarted === 0
    deps.metrics.pages.inc({ client: input.client, last: String(last) })
    const state = { ...input.state, frontier: plan.frontier, active }
    return pageEnd(report, run.context ?? '$metadata', last ? undefined : input.nextLink(state))
  }

  return Readable.from(body(), { objectMode: false, highWaterMark: 16 * 1024 })
}

/**
 * Reads the planned tenants `concurrency` at a time. When a round moved nothing on and only tenants out
 * of budget are left, waits for the soonest of them if that fits in the page time, rather than hand the
 * caller an empty page to follow at once.
 */
async function readRounds (reads: readonly TenantPosition[], deps: PageDeps, signal: AbortSignal, readOne: (p: TenantPosition, round: Round) => Promise<void>): Promise<void> {
  const deadline = performance.now() + deps.pageTimeoutMs
  let queue = [...reads]
  while (queue.length > 0 && !signal.aborted) {
    const round: Round = { progressed: false, deferred: [] }
    const worker = async (): Promise<void> => {
      for (let p = queue.shift(); p !== undefined && !signal.aborted; p = queue.shift()) await readOne(p, round)
    }
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, queue.length) }, worker))
    if (round.progressed || round.deferred.length === 0) return
    const waitMs = Math.min(...round.deferred.map((d) => d.retryAfter)) * 1000
    if (waitMs >= deadline - performance.now()) return
    try {
      await sleep(waitMs, undefined, { signal })
    } catch {
      return
    }
    queue = round.deferred.map((d) => d.position)
  }
}
