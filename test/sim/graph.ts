import { createServer } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TestCa } from './ca.js'
import { closeServer, listenLoopback, readBody, sendJson, trackSockets, uuid } from './http-util.js'
import { createVerifier } from './jwt-verify.js'
import { createRateLimiter } from './rate-limit.js'
import { graphTenantData, huntingResults, type GraphTenantData } from './graph-data.js'

/** A scripted misbehaviour: a status for the next `times` security requests (429 with Retry-After, 401, 5xx). */
export interface GraphFault { status: number, retryAfter?: number, times?: number }

export interface GraphSimOptions {
  ca: TestCa
  entraPublicKeyPem: string
  /** the Graph resource tokens must be for */
  audience?: string
  alertsPerTenant?: number
  /** default `$top` of alerts_v2 and incidents */
  pageSize?: number
  ratePerMinute?: number
  huntingPerMinute?: number
  /** base of the @odata.nextLink values it writes (Graph writes its own public host); default its own URL */
  linkBase?: string
}

/** One request as the simulated Graph received it. */
export interface GraphRecord { method: string, url: string, headers: Record<string, string | string[] | undefined>, tenant?: string }

/** Handle on a running simulated Microsoft Graph security API. */
export interface GraphSim {
  url: string
  received: GraphRecord[]
  setFault (fault: GraphFault | undefined): void
  /** a hostile Graph: the base its nextLinks name from now on (undefined: the configured one) */
  setLinkBase (base: string | undefined): void
  close (): Promise<void>
}

const ALERT_ROLES = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All']
const INCIDENT_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All']

/** Graph's error body with innerError (request-id, date, client-request-id). */
function graphError (res: ServerResponse, status: number, code: string, message: string, ids: Record<string, string>, headers: Record<string, string> = {}): void {
  const innerError = { date: new Date().toISOString().slice(0, 19), ...ids }
  sendJson(res, status, { error: { code, message, innerError } }, headers)
}

/** Starts a simulated Graph security API (HTTPS on 127.0.0.1, port 0), written from Graph's documentation. */
export async function startGraph (opts: GraphSimOptions): Promise<GraphSim> {
  const verify = createVerifier(opts.entraPublicKeyPem, opts.audience ?? 'https://graph.microsoft.com')
  const pageSize = opts.pageSize ?? 50
  const limiter = createRateLimiter(opts.ratePerMinute ?? 150)
  const hunting = createRateLimiter(opts.huntingPerMinute ?? 45)
  const data = new Map<string, GraphTenantData>()
  const received: GraphRecord[] = []
  let fault: GraphFault | undefined
  let linkBase = opts.linkBase
  let base = ''
  const { keyPem, certPem } = await opts.ca.issueServerCert()
  const tenantData = (tenant: string): GraphTenantData => {
    let d = data.get(tenant)
    if (d === undefined) { d = graphTenantData(tenant, opts.alertsPerTenant ?? 120); data.set(tenant, d) }
    return d
  }

  /** A page of a collection: `$top` and an opaque `$skiptoken` (the offset, encoded), other options kept. */
  function page (res: ServerResponse, url: URL, items: unknown[], ids: Record<string, string>): void {
    const top = Math.min(Number(url.searchParams.get('$top') ?? pageSize) || pageSize, 1000)
    const token = url.searchParams.get('$skiptoken')
    const offset = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^offset:/, ''))
    const value = items.slice(offset, offset + top)
    const body: Record<string, unknown> = { '@odata.context': `${linkBase ?? base}/v1.0/$metadata#security/alerts_v2`, value }
    if (offset + top < items.length) {
      const next = new URLSearchParams(url.searchParams)
      next.set('$skiptoken', Buffer.from(`offset:${offset + top}`).toString('base64url'))
      body['@odata.nextLink'] = `${linkBase ?? base}${url.pathname}?${next.toString().replace(/%24/g, '$')}`
    }
    sendJson(res, 200, body, ids)
  }

  async function security (req: IncomingMessage, res: ServerResponse, url: URL, tenant: string, roles: string[], ids: Record<string, string>): Promise<void> {
    const parts = url.pathname.split('/').slice(3)
    const need = (accepted: string[]): boolean => {
      if (accepted.some((r) => roles.includes(r))) return true
      graphError(res, 403, 'Forbidden', `Missing application roles. API required roles: ${accepted.join(',')}, application roles: ${roles.join(',')}.`, ids, ids)
      return false
    }
    const d = tenantData(tenant)
    const [collection, id] = parts
    if (collection === 'runHuntingQuery' && req.method === 'POST') {
      if (!need(['ThreatHunting.Read.All'])) return
      const wait = hunting.take(tenant)
      if (wait > 0) { graphError(res, 429, 'TooManyRequests', 'Please retry again later.', ids, { ...ids, 'retry-after': String(wait) }); return }
      const body = JSON.parse((await readBody(req, 1024 * 1024)).body.toString('utf8') || '{}') as { Query?: unknown }
      if (typeof body.Query !== 'string') { graphError(res, 400, 'BadRequest', 'Query is required.', ids, ids); return }
      sendJson(res, 200, { '@odata.context': `${base}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults`, ...huntingResults(body.Query) }, ids)
      return
    }
    if (collection === 'alerts_v2' && id === undefined && req.method === 'GET') { if (need(ALERT_ROLES)) page(res, url, d.alerts, ids); return }
    if (collection === 'alerts_v2' && id !== undefined && parts.length === 2) {
      const alert = d.alerts.find((a) => a.id === id)
      if (req.method === 'PATCH') {
        if (!need(['SecurityAlert.ReadWrite.All'])) return
        const patch = JSON.parse((await readBody(req, 1024 * 1024)).body.toString('utf8') || '{}') as { status?: string }
        if (alert !== undefined && typeof patch.status === 'string') alert.status = patch.status
      } else if (!need(ALERT_ROLES)) return
      if (alert === undefined) graphError(res, 404, 'NotFound', `Alert ${id} not found.`, ids, ids)
      else sendJson(res, 200, alert, ids)
      return
    }
    if (collection === 'incidents' && req.method === 'GET' && parts.length <= 2) {
      if (!need(INCIDENT_ROLES)) return
      const incident = d.incidents.find((i) => i.id === id)
      if (id === undefined) page(res, url, d.incidents, ids)
      else if (incident === undefined) graphError(res, 404, 'NotFound', `Incident ${id} not found.`, ids, ids)
      else sendJson(res, 200, incident, ids)
      return
    }
    if (collection === 'secureScores' && req.method === 'GET') { if (need(['SecurityEvents.Read.All', 'SecurityEvents.ReadWrite.All'])) sendJson(res, 200, { value: [{ id: `${tenant}_2026-11-01`, currentScore: 42 }] }, ids); return }
    graphError(res, 400, 'BadRequest', `Resource not found for the segment '${collection ?? ''}'.`, ids, ids)
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://graph.invalid')
    const client = req.headers['client-request-id']
    const ids: Record<string, string> = { 'request-id': uuid(), ...(typeof client === 'string' ? { 'client-request-id': client } : {}) }
    const record: GraphRecord = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } }
    received.push(record)
    const checked = verify(req.headers.authorization)
    if (!checked.ok) { graphError(res, 401, 'InvalidAuthenticationToken', checked.reason, ids, ids); return }
    record.tenant = checked.token.tenant
    if (!/^\/(v1\.0|beta)\/security\//.test(url.pathname)) { graphError(res, 400, 'BadRequest', 'Only /security is simulated.', ids, ids); return }
    if (fault !== undefined) {
      const f = fault
      if (f.times !== undefined && f.times <= 1) fault = undefined
      else if (f.times !== undefined) fault = { ...f, times: f.times - 1 }
      graphError(res, f.status, f.status === 429 ? 'TooManyRequests' : 'ServiceError', 'Simulated fault.', ids, { ...ids, ...(f.retryAfter === undefined ? {} : { 'retry-after': String(f.retryAfter) }) })
      return
    }
    const wait = limiter.take(checked.token.tenant)
    if (wait > 0) { graphError(res, 429, 'TooManyRequests', 'Please retry again later.', ids, { ...ids, 'retry-after': String(wait) }); return }
    await security(req, res, url, checked.token.tenant, checked.token.roles, ids)
  }

  const server = createServer({ key: keyPem, cert: certPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalServerError', message: String(err) } })
      else res.destroy()
    })
  })
  const destroyAll = trackSockets(server)
  base = `https://127.0.0.1:${await listenLoopback(server)}`
  return { url: base, received, setFault (f) { fault = f }, setLinkBase (b) { linkBase = b ?? opts.linkBase }, close: async () => await closeServer(server, destroyAll) }
}
