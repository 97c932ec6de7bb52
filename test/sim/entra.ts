import { createServer } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TestCa } from './ca.js'
import { closeServer, GUID_RE, listenLoopback, readBody, sendJson, sleep, trackSockets } from './http-util.js'
import { createSigningKey, signAccessToken } from './entra-jwt.js'
import { defaultFaultCode, defaultFaultError, errors, sendEntraError } from './entra-errors.js'
import type { EntraError } from './entra-errors.js'
import { assertionAccepted } from './entra-assertion.js'
import { createConsentPages, type ConsentPages } from './entra-consent.js'

/** A scripted misbehaviour of the token endpoint. */
export type EntraFault =
  | { kind: 'latency', ms: number }
  | { kind: 'status', status: number, aadsts?: number, error?: string, retryAfter?: number, times?: number }
  | { kind: 'hang' }
  | { kind: 'empty' }
  | { kind: 'non-json', status: number }
  /** holds each request until the promise settles, then answers normally (a per-request latency hook) */
  | { kind: 'wait', until: Promise<void> }
  /**
   * a misrouted identity path: a validly signed token whose `tid` is `tenant` (roles as granted there)
   * and/or whose `aud` is `audience`, instead of the requested tenant's and resource's
   */
  | { kind: 'token', tenant?: string, audience?: string, times?: number }

export interface EntraSimOptions {
  ca: TestCa
  clientId: string
  clientSecrets: string[]
  audience?: string
  tokenLifetimeSec?: number
  grants?: Record<string, string[]>
  /** further resources of the same app (e.g. Microsoft Graph): audience → tenant → roles granted there */
  resourceGrants?: Record<string, Record<string, string[]>>
  /** PEM certificates registered on the app; once set, certificate assertions are checked (x5t#S256, x5c, signature) */
  certificates?: string[]
  /** issuers whose federated assertions (aud api://AzureADTokenExchange) the app trusts */
  federatedIssuers?: string[]
}

/** Handle on a running simulated Entra ID token endpoint. */
export interface EntraSim {
  url: string
  /** the admin-consent page (GET/POST /{tenant}/adminconsent): redirect URIs, app roles, hostile outcomes */
  consent: Omit<ConsentPages, 'handle'>
  hostPort: string
  publicKeyPem: string
  tokenRequests (tenant?: string): number
  issued (tenant?: string): number
  lastRequest (tenant: string): Record<string, string> | undefined
  /** the roles of `audience` (default: the main one) granted in a tenant; undefined revokes */
  setGrants (tenant: string, roles: string[] | undefined, audience?: string): void
  setFault (tenant: string | '*', fault: EntraFault | undefined): void
  setTokenLifetime (sec: number): void
  /** replaces the app's valid secrets / certificates (a credential rotation on the Entra side) */
  setClientSecrets (secrets: string[]): void
  setCertificates (certPems: string[]): void
  resetCounts (): void
  close (): Promise<void>
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

function bump (map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

function total (map: Map<string, number>, key?: string): number {
  if (key !== undefined) return map.get(key.toLowerCase()) ?? 0
  let n = 0
  for (const v of map.values()) n += v
  return n
}

/** Starts a simulated Entra ID (HTTPS on 127.0.0.1, port 0) issuing RS256 app-only tokens. */
export async function startEntra (opts: EntraSimOptions): Promise<EntraSim> {
  const audience = opts.audience ?? 'https://api.securitycenter.microsoft.com'
  let lifetime = opts.tokenLifetimeSec ?? 3599
  const key = createSigningKey()
  const grants = new Map<string, string[]>(Object.entries(opts.grants ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
  const byAudience = new Map<string, Map<string, string[]>>(Object.entries(opts.resourceGrants ?? {})
    .map(([aud, g]) => [aud, new Map(Object.entries(g).map(([k, v]) => [k.toLowerCase(), v]))]))
  const faults = new Map<string, EntraFault>()
  const requests = new Map<string, number>()
  const issuedCounts = new Map<string, number>()
  const lastForms = new Map<string, Record<string, string>>()
  const { keyPem, certPem } = await opts.ca.issueServerCert()
  let secrets = [...opts.clientSecrets]
  const trust = { clientId: opts.clientId, certificates: [...opts.certificates ?? []], federatedIssuers: [...opts.federatedIssuers ?? []] }
  let base = ''
  const consent = createConsentPages(opts.clientId, (tenant, roles) => { grants.set(tenant, roles) }, [...new Set(Object.values(opts.grants ?? {}).flat())])

  /** Returns the fault for the tenant (or '*'), consuming one use of a `times`-limited status fault. */
  function takeFault (tenant: string): EntraFault | undefined {
    const k = faults.has(tenant) ? tenant : '*'
    const f = faults.get(k)
    if ((f?.kind === 'status' || f?.kind === 'token') && f.times !== undefined) {
      if (f.times <= 1) faults.delete(k)
      else faults.set(k, { ...f, times: f.times - 1 })
    }
    return f
  }

  /** Applies a fault; true when it answered (or swallowed) the request. */
  async function applyFault (f: EntraFault | undefined, res: ServerResponse, corr: string | undefined): Promise<boolean> {
    if (f === undefined) return false
    switch (f.kind) {
      case 'latency': await sleep(f.ms); return false
      case 'wait': await f.until; return false
      case 'token': return false
      case 'hang': return true
      case 'empty':
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': 0 }).end()
        return true
      case 'non-json':
        res.writeHead(f.status, { 'content-type': 'text/html' }).end('<html><body><h1>Service Unavailable</h1></body></html>')
        return true
      case 'status': {
        const headers: Record<string, string> = f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}
        const e: EntraError = {
          status: f.status,
          error: f.error ?? defaultFaultError(f.status),
          aadsts: f.aadsts ?? defaultFaultCode(f.status),
          message: 'Simulated failure.'
        }
        sendEntraError(res, e, corr, headers)
        return true
      }
    }
  }

  /** Runs Entra's checks in order; returns the first failure, or undefined. */
  function check (tenant: string, form: Record<string, string>): EntraError | undefined {
    const grant = form.grant_type ?? ''
    if (grant !== 'client_credentials') return errors.unsupportedGrant(grant)
    const clientId = form.client_id ?? ''
    if (clientId !== opts.clientId || !grants.has(tenant)) return errors.appNotFound(clientId, tenant)
    if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
      const ok = form.client_assertion_type === ASSERTION_TYPE && assertionAccepted(form.client_assertion ?? '', trust)
      if (!ok) return errors.badAssertion()
    } else if (form.client_secret === undefined || !secrets.includes(form.client_secret)) {
      return errors.badSecret(clientId)
    }
    const scoped = [audience, ...byAudience.keys()].some((a) => form.scope === `${a}/.default`)
    if (!scoped) return errors.badScope(form.scope ?? '', tenant)
    return undefined
  }

  async function token (req: IncomingMessage, res: ServerResponse, rawTenant: string, query: URLSearchParams): Promise<void> {
    const tenant = rawTenant.toLowerCase()
    bump(requests, tenant)
    const { body } = await readBody(req, 1024 * 1024)
    const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')))
    lastForms.set(tenant, form)
    const corr = query.get('client-request-id') ?? form['client-request-id'] ?? undefined
    const fault = takeFault(tenant)
    if (await applyFault(fault, res, corr)) return
    if (!GUID_RE.test(tenant)) { sendEntraError(res, errors.tenantNotFound(rawTenant), corr); return }
    const failure = check(tenant, form)
    if (failure !== undefined) { sendEntraError(res, failure, corr); return }
    const swap = fault?.kind === 'token' ? fault : undefined
    const issuedFor = swap?.tenant?.toLowerCase() ?? tenant
    // A token carries the roles of the resource it was asked for: one request per resource (.default).
    const asked = (form.scope ?? '').slice(0, -'/.default'.length)
    const roleTable = asked === audience ? grants : byAudience.get(asked) ?? new Map<string, string[]>()
    const accessToken = signAccessToken({
      key,
      audience: swap?.audience ?? asked,
      tenant: swap?.tenant ?? tenant,
      clientId: opts.clientId,
      roles: roleTable.get(issuedFor) ?? [],
      lifetimeSec: lifetime,
      viaAssertion: form.client_assertion !== undefined
    })
    bump(issuedCounts, tenant)
    sendJson(res, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
      { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' })
  }

  function openidConfiguration (tenant: string): Record<string, unknown> {
    return {
      token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      issuer: `${base}/${tenant}/v2.0`,
      authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU'
    }
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sim.invalid')
    const parts = url.pathname.split('/').filter(p => p !== '')
    const tenant = parts[0] ?? ''
    const rest = parts.slice(1).join('/').toLowerCase()
    if (rest === 'oauth2/v2.0/token') {
      if (req.method === 'POST') { await token(req, res, decodeURIComponent(tenant), url.searchParams); return }
      sendEntraError(res, errors.postOnly(), undefined); return
    }
    if (await consent.handle(req, res, decodeURIComponent(tenant), rest, url.searchParams)) return
    if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      sendJson(res, 200, openidConfiguration(tenant)); return
    }
    if (req.method === 'GET' && (rest === 'discovery/keys' || rest === 'discovery/v2.0/keys')) {
      sendJson(res, 200, { keys: [key.jwk] }); return
    }
    sendJson(res, 404, { error: 'not_found', error_description: `No route for ${req.method ?? ''} ${url.pathname}` })
  }

  const server = createServer({ key: keyPem, cert: certPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err) })
      else res.destroy()
    })
  })
  const destroyAll = trackSockets(server)
  const port = await listenLoopback(server)
  base = `https://127.0.0.1:${port}`

  return {
    url: base,
    consent,
    hostPort: `127.0.0.1:${port}`,
    publicKeyPem: key.publicKeyPem,
    tokenRequests: (tenant) => total(requests, tenant),
    issued: (tenant) => total(issuedCounts, tenant),
    lastRequest: (tenant) => lastForms.get(tenant.toLowerCase()),
    setGrants (tenant, roles, aud) {
      const table = aud === undefined || aud === audience ? grants : byAudience.get(aud) ?? new Map<string, string[]>()
      if (aud !== undefined && aud !== audience) byAudience.set(aud, table)
      if (roles === undefined) table.delete(tenant.toLowerCase())
      else table.set(tenant.toLowerCase(), roles)
    },
    setFault (tenant, fault) {
      const k = tenant === '*' ? '*' : tenant.toLowerCase()
      if (fault === undefined) faults.delete(k)
      else faults.set(k, fault)
    },
    setTokenLifetime (sec) { lifetime = sec },
    setClientSecrets (list) { secrets = [...list] },
    setCertificates (list) { trust.certificates = [...list] },
    resetCounts () {
      requests.clear()
      issuedCounts.clear()
      lastForms.clear()
    },
    close: async () => await closeServer(server, destroyAll)
  }
}
