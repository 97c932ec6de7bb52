import { createServer } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TestCa } from './ca.js'
import { closeServer, listenLoopback, readBody, sleep, trackSockets } from './http-util.js'
import { createVerifier } from './jwt-verify.js'
import { codeForStatus, errorBody, sendScripted, sendText, type ScriptedAnswer } from './defender-reply.js'
import { hasRole, matchRoute, normalisePath } from './defender-routes.js'
import { parseQuery, QueryError } from './defender-query.js'
import { HttpError } from './defender-context.js'
import type { StreamStats } from './defender-context.js'
import { newTenantData } from './defender-data.js'
import type { TenantData } from './defender-data.js'
import { createRateLimiter } from './rate-limit.js'

/** A scripted misbehaviour of one region. */
export type DefenderFault =
  | { kind: 'status', status: number, times?: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  /** answers 200 with a declared JSON length, sends part of it, then drops the connection */
  | { kind: 'truncate' }
  /** writes exactly these bytes on the connection, answer line and headers included, then leaves it open (or closes it) */
  | { kind: 'raw', bytes: string, close?: boolean }
  /** holds each API request (not the health probe) until `until` settles, then answers normally; `held` is called as each arrives */
  | { kind: 'wait', until: Promise<void>, held?: () => void }
  /** a hostile Defender: exactly these headers and body bytes, written `writeBytes` at a time */
  | ScriptedAnswer

/** One request as the region received it (recorded before anything else happens). */
export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  tenant?: string
  bodyBytes: number
  at: number
}

export interface DefenderRegionOptions {
  name: string
  ca: TestCa
  entraPublicKeyPem: string
  audience?: string
  latencyMs?: number
  ratePerMinute?: number
  alertsPerTenant?: number
  /** largest export page (Defender: 200,000); the benchmark raises it to stream one ~200 MB page */
  maxExportPage?: number
  linkHost?: string
  compress?: boolean
}

/** Handle on one simulated regional Defender host. */
export interface DefenderRegion {
  name: string
  url: string
  received: RecordedRequest[]
  /** streamed export pages: records written, pages aborted by the client, pages completed */
  readonly streams: StreamStats
  setLatency (ms: number): void
  setFault (fault: DefenderFault | undefined): void
  setAlertCount (tenant: string, n: number): void
  setExportCount (tenant: string, n: number): void
  setRatePerMinute (n: number): void
  /** answers this tenant's API requests with `status` (`times` times, then normally); undefined clears it */
  setTenantFault (tenant: string, fault: { status: number, times?: number, retryAfter?: number } | undefined): void
  reset (): void
  close (): Promise<void>
}

const BODY_LIMIT = 30 * 1024 * 1024

/** Starts one simulated regional Defender host (HTTPS on 127.0.0.1, port 0). */
export async function startDefenderRegion (opts: DefenderRegionOptions): Promise<DefenderRegion> {
  const audience = opts.audience ?? 'https://api.securitycenter.microsoft.com'
  const linkHost = (opts.linkHost ?? 'https://api.securitycenter.microsoft.com').replace(/\/+$/, '')
  const compress = opts.compress ?? false
  const verifyBearer = createVerifier(opts.entraPublicKeyPem, audience)
  const limiter = createRateLimiter(opts.ratePerMinute ?? 100)
  const received: RecordedRequest[] = []
  const tenants = new Map<string, TenantData>()
  const alertCounts = new Map<string, number>()
  const exportCounts = new Map<string, number>()
  const tenantFaults = new Map<string, { status: number, times?: number, retryAfter?: number }>()
  const streams: StreamStats = { recordsWritten: 0, aborted: 0, completed: 0 }
  let latency = opts.latencyMs ?? 0
  let fault: DefenderFault | undefined
  const { keyPem, certPem } = await opts.ca.issueServerCert()

  function fail (req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {},
    code = codeForStatus(status)): void {
    sendText(req, res, compress, status, JSON.stringify(errorBody(code, message)), headers)
  }

  function tenantData (tenant: string): TenantData {
    let d = tenants.get(tenant)
    if (d === undefined) tenants.set(tenant, d = newTenantData(tenant))
    return d
  }

  /** Consumes the current fault; returns it when it decides this request. */
  function takeFault (): DefenderFault | undefined {
    const f = fault
    if (f?.kind === 'status' && f.times !== undefined) fault = f.times <= 1 ? undefined : { ...f, times: f.times - 1 }
    return f
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/'
    const rec: RecordedRequest = { method: req.method ?? '', url: rawUrl, headers: { ...req.headers }, bodyBytes: 0, at: Date.now() }
    received.push(rec)
    const f = takeFault()
    if (f?.kind === 'reset') { req.socket.destroy(); return }
    const body = await readBody(req, BODY_LIMIT)
    rec.bodyBytes = body.bytes
    if (f?.kind === 'hang') return
    await sleep(latency)
    if (f?.kind === 'truncate') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' })
      res.write('{"@odata.context":"x","value":[')
      setTimeout(() => res.socket?.destroy(), 20)
      return
    }
    if (f?.kind === 'answer') { await sendScripted(res, f); return }
    if (f?.kind === 'raw') {
      req.socket.write(f.bytes)
      if (f.close === true) req.socket.end()
      return
    }
    if (f?.kind === 'status') {
      fail(req, res, f.status, `Simulated ${f.status} from region ${opts.name}`, f.status === 429 ? { 'retry-after': '1' } : {})
      return
    }
    const q = rawUrl.indexOf('?')
    const path = normalisePath(q < 0 ? rawUrl : rawUrl.slice(0, q))
    const method = (req.method ?? '').toUpperCase()
    if ((method === 'GET' || method === 'HEAD') && (path === '' || path.toLowerCase() === '/api')) {
      sendText(req, res, false, 200, JSON.stringify({ status: 'ok', region: opts.name }))
      return
    }
    if (f?.kind === 'wait') {
      f.held?.()
      await f.until
    }
    const auth = verifyBearer(req.headers.authorization)
    if (!auth.ok) { fail(req, res, 401, auth.reason); return }
    const { token } = auth
    rec.tenant = token.tenant
    const tf = tenantFaults.get(token.tenant)
    if (tf !== undefined) {
      if (tf.times !== undefined) {
        if (tf.times <= 1) tenantFaults.delete(token.tenant)
        else tenantFaults.set(token.tenant, { ...tf, times: tf.times - 1 })
      }
      fail(req, res, tf.status, `Simulated ${tf.status} for tenant ${token.tenant}`, tf.retryAfter === undefined ? {} : { 'retry-after': String(tf.retryAfter) })
      return
    }
    const wait = limiter.take(token.tenant)
    if (wait > 0) {
      fail(req, res, 429, `Rate limit is exceeded. Try again in ${wait} seconds.`, { 'retry-after': String(wait) })
      return
    }
    if (body.tooLarge) { fail(req, res, 413, `Request body exceeds ${BODY_LIMIT} bytes`); return }
    const match = matchRoute(method, path)
    if (match.route === undefined) {
      if (match.methodMismatch) fail(req, res, 405, `The requested resource does not support http method '${method}'.`)
      else fail(req, res, 404, `Resource ${path} was not found`)
      return
    }
    if (!hasRole(token.roles, match.route.roles)) {
      fail(req, res, 403, `The application does not have any of the required application roles: ${match.route.roles.join(', ')}`)
      return
    }
    await match.route.handler({
      req,
      res,
      params: match.params,
      query: parseQuery(q < 0 ? '' : rawUrl.slice(q + 1)),
      body: body.body,
      token,
      data: tenantData(token.tenant),
      linkHost,
      alertCount: alertCounts.get(token.tenant) ?? opts.alertsPerTenant ?? 30,
      exportCount: exportCounts.get(token.tenant) ?? 1000,
      maxExportPage: opts.maxExportPage ?? 200_000,
      compress,
      streams
    })
  }

  const server = createServer({ key: keyPem, cert: certPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) { res.destroy(); return }
      if (err instanceof HttpError) fail(req, res, err.status, err.message, {}, err.code)
      else if (err instanceof QueryError) fail(req, res, 400, err.message, {}, err.code)
      else fail(req, res, 500, `Simulator failure: ${String(err)}`)
    })
  })
  const destroyAll = trackSockets(server)
  const port = await listenLoopback(server)

  return {
    name: opts.name,
    url: `https://127.0.0.1:${port}`,
    received,
    streams,
    setLatency (ms) { latency = ms },
    setFault (next) { fault = next },
    setAlertCount (tenant, n) { alertCounts.set(tenant.toLowerCase(), n) },
    setExportCount (tenant, n) { exportCounts.set(tenant.toLowerCase(), n) },
    setRatePerMinute (n) { limiter.setRate(n) },
    setTenantFault (tenant, f) {
      if (f === undefined) tenantFaults.delete(tenant.toLowerCase())
      else tenantFaults.set(tenant.toLowerCase(), f)
    },
    reset () {
      received.length = 0
      Object.assign(streams, { recordsWritten: 0, aborted: 0, completed: 0 })
      limiter.clear()
    },
    close: async () => await closeServer(server, destroyAll)
  }
}
