import { findMachine } from './defender-data.js'
import type { Machine } from './defender-data.js'
import { compileFilter, page } from './defender-query.js'
import { context, HttpError, json, jsonBody, requiredString } from './defender-context.js'
import type { Ctx } from './defender-context.js'
import { uuid } from './http-util.js'

const MAX_TOP = 10000

function machineOr404 (ctx: Ctx): Machine {
  const m = findMachine(ctx.data, ctx.params[0]!)
  if (m === undefined) throw new HttpError(404, 'ResourceNotFound', `Machine ${ctx.params[0]!} was not found`)
  return m
}

/** GET /api/machines with `$filter` (string props), `$top`, `$skip`. */
export function listMachines (ctx: Ctx): void {
  const pred = compileFilter(ctx.query.get('$filter'), ['lastSeen'],
    ['id', 'computerDnsName', 'osPlatform', 'healthStatus', 'lastIpAddress', 'riskScore', 'exposureLevel', 'onboardingStatus'])
  const { value, nextLink } = page(ctx.data.machines.filter(pred), ctx.query, MAX_TOP, `${ctx.linkHost}/api/machines`)
  json(ctx, 200, { '@odata.context': context(ctx, 'Machines'), value, ...(nextLink !== undefined ? { '@odata.nextLink': nextLink } : {}) })
}

/** GET /api/machines/{id} ({id} may also be the computer name). */
export function getMachine (ctx: Ctx): void {
  json(ctx, 200, { '@odata.context': context(ctx, 'Machines/$entity'), ...machineOr404(ctx) })
}

/** GET /api/machines/findbyip(ip='..',timestamp=..): timestamp must be within the last 30 days. */
export function findByIp (ctx: Ctx): void {
  const ip = ctx.params[0]!
  const ts = Date.parse(ctx.params[1]!.replace(/^'|'$/g, ''))
  if (Number.isNaN(ts)) throw new HttpError(400, 'InvalidInput', `Invalid timestamp '${ctx.params[1]!}'`)
  if (ts < Date.now() - 30 * 86400_000) throw new HttpError(400, 'InvalidInput', 'Timestamp must be within the last 30 days')
  const value = ctx.data.machines.filter(m => m.lastIpAddress === ip)
  json(ctx, 200, { '@odata.context': context(ctx, 'Machines'), value })
}

/** GET /api/machineactions. */
export function listActions (ctx: Ctx): void {
  const pred = compileFilter(ctx.query.get('$filter'), ['creationDateTimeUtc'], ['id', 'status', 'machineId', 'type', 'requestor'])
  const { value, nextLink } = page(ctx.data.actions.filter(pred), ctx.query, MAX_TOP, `${ctx.linkHost}/api/machineactions`)
  json(ctx, 200, { '@odata.context': context(ctx, 'MachineActions'), value, ...(nextLink !== undefined ? { '@odata.nextLink': nextLink } : {}) })
}

/** GET /api/machineactions/{id}. */
export function getAction (ctx: Ctx): void {
  const id = ctx.params[0]!.toLowerCase()
  const action = ctx.data.actions.find(a => a.id === id)
  if (action === undefined) throw new HttpError(404, 'ResourceNotFound', `Machine action ${ctx.params[0]!} was not found`)
  json(ctx, 200, { '@odata.context': context(ctx, 'MachineActions/$entity'), ...action })
}

function enumField (body: Record<string, unknown>, name: string, allowed: string[]): string | undefined {
  const v = body[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new HttpError(400, 'InvalidRequestBody', `Invalid value for '${name}'; expected one of ${allowed.join(', ')}`)
  }
  return v
}

/** POST /api/machines/{id}/<action>: 201 with a Pending MachineAction stored for the tenant. */
export function machineAction (type: 'Isolate' | 'Unisolate' | 'RunAntiVirusScan'): (ctx: Ctx) => void {
  return function postMachineAction (ctx) {
    const machine = machineOr404(ctx)
    const body = jsonBody(ctx)
    const comment = requiredString(body, 'Comment')
    const scope = type === 'Isolate'
      ? enumField(body, 'IsolationType', ['Full', 'Selective', 'UnManagedDevice']) ?? 'Full'
      : type === 'RunAntiVirusScan' ? enumField(body, 'ScanType', ['Quick', 'Full']) ?? 'Full' : null
    const now = new Date().toISOString()
    const action: Record<string, unknown> = {
      id: uuid(),
      type,
      title: null,
      requestor: ctx.token.appId,
      requestorComment: comment,
      status: 'Pending',
      machineId: machine.id,
      computerDnsName: machine.computerDnsName,
      creationDateTimeUtc: now,
      lastUpdateDateTimeUtc: now,
      cancellationRequestor: null,
      cancellationComment: null,
      cancellationDateTimeUtc: null,
      errorHResult: 0,
      scope,
      externalId: null,
      requestSource: 'PublicApi',
      relatedFileInfo: null,
      commands: [],
      troubleshootInfo: null
    }
    ctx.data.actions.push(action)
    json(ctx, 201, { '@odata.context': context(ctx, 'MachineActions/$entity'), ...action })
  }
}

/** GET /api/machineactions/{id}/getPackageUri: value carries literal quotes, as in the docs. */
export function packageUri (ctx: Ctx): void {
  const url = 'https://userrequests-us.securitycenter.windows.com:443/safedownload/WDATP_Investigation_Package.zip?token=abc'
  json(ctx, 200, { '@odata.context': context(ctx, 'Edm.String'), value: `"${url}"` })
}

/** GET /api/machineactions/{id}/GetLiveResponseResultDownloadLink(index=n): an Azure Blob SAS URL. */
export function liveResponseLink (ctx: Ctx): void {
  const se = encodeURIComponent(new Date(Date.now() + 30 * 60_000).toISOString())
  const value = `https://automatedirstrprdweu.blob.core.windows.net/investigation-actions-data/${ctx.data.tenant}/` +
    `${ctx.params[0]!}/${ctx.params[1]!}.json?se=${se}&sp=r&sv=2019-12-12&sr=b&sig=c2ltdWxhdGVkLXNpZ25hdHVyZQ%3D%3D`
  json(ctx, 200, { '@odata.context': context(ctx, 'Edm.String'), value })
}
