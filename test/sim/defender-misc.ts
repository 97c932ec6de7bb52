import { compileFilter, page } from './defender-query.js'
import { context, HttpError, json, jsonBody, requiredString } from './defender-context.js'
import type { Ctx } from './defender-context.js'
import { uuid } from './http-util.js'

/** GET /api/indicators. */
export function listIndicators (ctx: Ctx): void {
  const pred = compileFilter(ctx.query.get('$filter'), ['expirationTime', 'creationTimeDateTimeUtc'],
    ['indicatorValue', 'indicatorType', 'action', 'title', 'severity', 'createdBy', 'application'])
  const { value, nextLink } = page(ctx.data.indicators.filter(pred), ctx.query, 10000, `${ctx.linkHost}/api/indicators`)
  json(ctx, 200, { '@odata.context': context(ctx, 'Indicators'), value, ...(nextLink !== undefined ? { '@odata.nextLink': nextLink } : {}) })
}

const INDICATOR_TYPES = ['FileSha1', 'FileMd5', 'FileSha256', 'IpAddress', 'DomainName', 'Url', 'CertificateThumbprint']

/** POST /api/indicators: upsert by (indicatorType, indicatorValue); 200 with the entity. */
export function postIndicator (ctx: Ctx): void {
  const body = jsonBody(ctx)
  const indicatorValue = requiredString(body, 'indicatorValue')
  const indicatorType = requiredString(body, 'indicatorType')
  const action = requiredString(body, 'action')
  const title = requiredString(body, 'title')
  if (!INDICATOR_TYPES.includes(indicatorType)) throw new HttpError(400, 'InvalidInput', `Unknown indicatorType '${indicatorType}'`)
  const existing = ctx.data.indicators.find(i => i.indicatorType === indicatorType && i.indicatorValue === indicatorValue)
  const entity: Record<string, unknown> = {
    id: existing?.id ?? String(ctx.data.nextIndicatorId++),
    indicatorValue,
    indicatorType,
    action,
    title,
    description: body.description ?? null,
    severity: body.severity ?? 'Informational',
    application: body.application ?? null,
    expirationTime: body.expirationTime ?? null,
    generateAlert: body.generateAlert ?? false,
    createdBy: ctx.token.appId,
    createdBySource: 'PublicApi',
    creationTimeDateTimeUtc: existing?.creationTimeDateTimeUtc ?? new Date().toISOString(),
    lastUpdateTime: new Date().toISOString(),
    rbacGroupNames: []
  }
  if (existing !== undefined) ctx.data.indicators.splice(ctx.data.indicators.indexOf(existing), 1, entity)
  else ctx.data.indicators.push(entity)
  json(ctx, 200, { '@odata.context': context(ctx, 'Indicators/$entity'), ...entity })
}

/** DELETE /api/indicators/{id}: 204, or 404. */
export function deleteIndicator (ctx: Ctx): void {
  const idx = ctx.data.indicators.findIndex(i => i.id === ctx.params[0])
  if (idx < 0) throw new HttpError(404, 'ResourceNotFound', `Indicator ${ctx.params[0]!} was not found`)
  ctx.data.indicators.splice(idx, 1)
  ctx.res.writeHead(204).end()
}

/** POST /api/advancedqueries/run: `{Query}` → `{Stats, Schema, Results}`; honours `| take N` / `| limit N`. */
export function advancedQuery (ctx: Ctx): void {
  const query = requiredString(jsonBody(ctx), 'Query')
  const m = /\|\s*(?:take|limit)\s+(\d+)/i.exec(query)
  const rows = Math.min(m !== null ? Number(m[1]) : 3, 100000)
  const machines = ctx.data.machines
  const Results = Array.from({ length: rows }, (_, i) => ({
    Timestamp: new Date(Date.now() - i * 60_000).toISOString(),
    DeviceId: machines[i % machines.length]!.id,
    DeviceName: machines[i % machines.length]!.computerDnsName,
    ActionType: 'ProcessCreated'
  }))
  json(ctx, 200, {
    Stats: { ExecutionTime: 0.01, resource_usage: { cache: {}, cpu: {}, memory: {} }, dataset_statistics: [{ table_row_count: rows }] },
    Schema: [
      { Name: 'Timestamp', Type: 'DateTime' },
      { Name: 'DeviceId', Type: 'String' },
      { Name: 'DeviceName', Type: 'String' },
      { Name: 'ActionType', Type: 'String' }
    ],
    Results
  })
}

const SOFTWARE = [['microsoft', 'edge'], ['google', 'chrome'], ['mozilla', 'firefox'], ['adobe', 'acrobat_reader'], ['oracle', 'java_runtime']]

/** GET /api/Software. */
export function listSoftware (ctx: Ctx): void {
  const items = SOFTWARE.map(([vendor, name], i) => ({
    id: `${vendor!}-_-${name!}`,
    name,
    vendor,
    weaknesses: i * 3,
    publicExploit: i % 2 === 0,
    activeAlert: false,
    exposedMachines: i,
    installedMachines: ctx.data.machines.length,
    impactScore: i * 1.5,
    isNormalized: true
  }))
  const pred = compileFilter(ctx.query.get('$filter'), [], ['id', 'name', 'vendor'])
  const { value, nextLink } = page(items.filter(pred), ctx.query, 10000, `${ctx.linkHost}/api/Software`)
  json(ctx, 200, { '@odata.context': context(ctx, 'Software'), value, ...(nextLink !== undefined ? { '@odata.nextLink': nextLink } : {}) })
}

/** GET /api/vulnerabilities (`$top` ≤ 8,000). */
export function listVulnerabilities (ctx: Ctx): void {
  const severities = ['Low', 'Medium', 'High', 'Critical']
  const items = Array.from({ length: 5 }, (_, i) => ({
    id: `CVE-2024-${String(1000 + i)}`,
    name: `CVE-2024-${String(1000 + i)}`,
    description: `Simulated vulnerability ${i}`,
    severity: severities[i % 4],
    cvssV3: 4 + i,
    exposedMachines: i,
    publishedOn: '2024-06-01T00:00:00Z',
    updatedOn: '2024-06-02T00:00:00Z',
    publicExploit: false,
    exploitVerified: false,
    exploitInKit: false,
    exploitTypes: [],
    exploitUris: []
  }))
  const pred = compileFilter(ctx.query.get('$filter'), ['publishedOn', 'updatedOn'], ['id', 'name', 'severity'])
  const { value, nextLink } = page(items.filter(pred), ctx.query, 8000, `${ctx.linkHost}/api/vulnerabilities`)
  json(ctx, 200, { '@odata.context': context(ctx, 'Vulnerabilities'), value, ...(nextLink !== undefined ? { '@odata.nextLink': nextLink } : {}) })
}

/** GET /api/machines/SoftwareVulnerabilitiesExport: SAS URLs on blob.core.windows.net. */
export function vulnerabilitiesExport (ctx: Ctx): void {
  const hours = Math.min(Number(ctx.query.get('sasValidHours') ?? 1) || 1, 6)
  const st = encodeURIComponent(new Date().toISOString())
  const se = encodeURIComponent(new Date(Date.now() + hours * 3600_000).toISOString())
  const run = uuid()
  const exportFiles = [0, 1, 2].map(i =>
    `https://tvmexportexternalprdeus.blob.core.windows.net/temp-${run}/SoftwareVulnerabilitiesExport/json/` +
    `OrgId=${ctx.data.tenant}/_RbacGroupId=0/part-0000${i}-${run}.json.gz?sv=2020-08-04&st=${st}&se=${se}&sr=b&sp=r&sig=c2lt${i}%3D`)
  json(ctx, 200, {
    '@odata.context': context(ctx, 'microsoft.windowsDefenderATP.api.ExportFilesResponse'),
    exportFiles,
    generatedTime: new Date(Date.now() - 3600_000).toISOString()
  })
}
