import { alertAt, alertNumber, findMachine } from './defender-data.js'
import { compileFilter, page } from './defender-query.js'
import { context, HttpError, json, jsonBody } from './defender-context.js'
import type { Ctx } from './defender-context.js'

const TIME_PROPS = ['lastUpdateTime', 'alertCreationTime', 'lastEventTime']
const STRING_PROPS = ['id', 'status', 'severity', 'category', 'assignedTo', 'detectionSource', 'machineId', 'incidentId']
const MAX_TOP = 10000

function wantsEvidence (ctx: Ctx): boolean {
  return (ctx.query.get('$expand') ?? '').split(',').some(e => e.trim().toLowerCase() === 'evidence')
}

/** All alerts of the tenant matching `$filter` (and an optional machine), in creation order. */
function matching (ctx: Ctx, machineId?: string): Record<string, unknown>[] {
  const pred = compileFilter(ctx.query.get('$filter'), TIME_PROPS, STRING_PROPS)
  const evidence = wantsEvidence(ctx)
  const out: Record<string, unknown>[] = []
  for (let n = 1; n <= ctx.alertCount; n++) {
    const a = alertAt(ctx.data, n, evidence)
    if ((machineId === undefined || a.machineId === machineId) && pred(a)) out.push(a)
  }
  return out
}

function alertOr404 (ctx: Ctx, id: string): number {
  const n = alertNumber(ctx.data, id, ctx.alertCount)
  if (n === undefined) throw new HttpError(404, 'ResourceNotFound', `Alert ${id} was not found`)
  return n
}

/** GET /api/alerts with `$top`, `$skip`, `$filter`, `$expand=evidence` and a nextLink. */
export function listAlerts (ctx: Ctx): void {
  const { value, nextLink } = page(matching(ctx), ctx.query, MAX_TOP, `${ctx.linkHost}/api/alerts`)
  json(ctx, 200, { '@odata.context': context(ctx, 'Alerts'), value, ...(nextLink !== undefined ? { '@odata.nextLink': nextLink } : {}) })
}

/** GET /api/alerts/{id}. */
export function getAlert (ctx: Ctx): void {
  const n = alertOr404(ctx, ctx.params[0]!)
  json(ctx, 200, { '@odata.context': context(ctx, 'Alerts/$entity'), ...alertAt(ctx.data, n, wantsEvidence(ctx)) })
}

const PATCHABLE = ['status', 'assignedTo', 'classification', 'determination']

/** PATCH /api/alerts/{id}: updates status/assignedTo/classification/determination/comment. */
export function patchAlert (ctx: Ctx): void {
  const id = ctx.params[0]!
  const n = alertOr404(ctx, id)
  const body = jsonBody(ctx)
  const patch: Record<string, unknown> = { ...ctx.data.alertPatches.get(alertAt(ctx.data, n, false).id as string) }
  for (const k of PATCHABLE) if (k in body) patch[k] = body[k]
  if (typeof body.comment === 'string') {
    const prior = Array.isArray(patch.comments) ? patch.comments : []
    patch.comments = [...prior, { comment: body.comment, createdBy: ctx.token.appId, createdTime: new Date().toISOString() }]
  }
  patch.lastUpdateTime = new Date().toISOString()
  ctx.data.alertPatches.set(alertAt(ctx.data, n, false).id as string, patch)
  json(ctx, 200, { '@odata.context': context(ctx, 'Alerts/$entity'), ...alertAt(ctx.data, n, false) })
}

/** GET /api/alerts/{id}/machine. */
export function alertMachine (ctx: Ctx): void {
  const n = alertOr404(ctx, ctx.params[0]!)
  const machine = findMachine(ctx.data, String(alertAt(ctx.data, n, false).machineId))
  json(ctx, 200, { '@odata.context': context(ctx, 'Machines/$entity'), ...machine })
}

function machineIdOr404 (ctx: Ctx): string {
  const m = findMachine(ctx.data, ctx.params[0]!)
  if (m === undefined) throw new HttpError(404, 'ResourceNotFound', `Machine ${ctx.params[0]!} was not found`)
  return m.id
}

/** GET /api/machines/{id}/alerts. */
export function machineAlerts (ctx: Ctx): void {
  const id = machineIdOr404(ctx)
  const { value, nextLink } = page(matching(ctx, id), ctx.query, MAX_TOP, `${ctx.linkHost}/api/machines/${id}/alerts`)
  json(ctx, 200, { '@odata.context': context(ctx, 'Alerts'), value, ...(nextLink !== undefined ? { '@odata.nextLink': nextLink } : {}) })
}

/** GET /api/machines/{id}/alerts/$count: a bare integer body. */
export function machineAlertsCount (ctx: Ctx): void {
  const id = machineIdOr404(ctx)
  const text = String(matching(ctx, id).length)
  ctx.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  ctx.res.end(text)
}
