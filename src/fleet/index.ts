import { hkdfSync, randomBytes } from 'node:crypto'
import type { SecureContext } from 'node:tls'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { Agent } from 'undici'
import type { Client } from '../callers/authenticate.js'
import type { FleetConfig } from '../config/schema.js'
import type { Secret } from '../config/secret.js'
import { GatewayError } from '../errors.js'
import { FLEET_TENANT } from '../gateway-tokens/claims.js'
import { callerOf } from '../pipeline/admit.js'
import type { PolicyHolder } from '../pipeline/policy-state.js'
import type { RateBudgets } from '../limits/types.js'
import type { RegionDirectory } from '../regions/directory.js'
import type { TokenProvider } from '../tokens/types.js'
import { askOf, eligibleTenants, followLink, narrowingDigest, NARROW_HEADER, routeFor, routeOfLink, CURSOR_PARAM } from './ask.js'
import { decodeCursor, encodeCursor, type CursorState } from './cursor.js'
import { createFleetMetrics } from './metrics.js'
import { runPage, type PageDeps } from './page.js'
import { createSlots } from './slots.js'

import { FLEET_PREFIX } from './rewrite.js'

export { fleetRewrite } from './rewrite.js'

export interface FleetOptions {
  readonly config: FleetConfig
  /** fleet.cursorKey; absent: derived from `appSecret` */
  readonly cursorKey?: Secret
  /** the app's credential (client secret or certificate key), the same on every replica: the default cursor key's source */
  readonly appSecret?: Secret
  /** server.responseWriteIdleMs: a caller that stops reading a page is cut off after this (or the page time) */
  readonly writeIdleMs: number
  readonly policy: PolicyHolder
  readonly budgets: RateBudgets
  readonly tokens: TokenProvider
  readonly regions: RegionDirectory
  readonly registry: Registry
  readonly userAgent: string
  readonly tlsContext?: SecureContext
  readonly upstream: { readonly timeoutMs: number, readonly connectTimeoutMs: number, readonly connections: number }
  consentUrl (tenantId: string): string
  failedOver (from: string, to: string): void
  /** the gateway's base URL as callers reach it, for nextLinks */
  publicBase (request: FastifyRequest): string
  draining (): boolean
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/**
 * Fleet reads: `GET /fleet/api/...` runs a catalogue GET route in every tenant the caller may read and
 * answers one Defender-shaped page with a report and a signed cursor. The one way in from app.ts.
 */
export async function registerFleet (app: FastifyInstance, options: FleetOptions): Promise<void> {
  const { config } = options
  const key = cursorKeyOf(options)
  const agent = new Agent({
    connections: options.upstream.connections,
    keepAliveTimeout: 60_000,
    headersTimeout: options.upstream.timeoutMs,
    bodyTimeout: options.upstream.timeoutMs,
    connect: { timeout: options.upstream.connectTimeoutMs, ...(options.tlsContext === undefined ? {} : { secureContext: options.tlsContext }) }
  })
  const pageDeps: PageDeps = {
    budgets: options.budgets,
    tokens: options.tokens,
    regions: options.regions,
    agent,
    userAgent: options.userAgent,
    maxPageBytes: config.maxTenantPageBytes,
    consentUrl: options.consentUrl,
    failedOver: options.failedOver,
    concurrency: config.concurrency,
    window: config.maxTenantsInProgress,
    pageTimeoutMs: config.pageTimeoutMs,
    maxTenantFailures: config.maxTenantFailures,
    metrics: createFleetMetrics(options.registry),
    slots: createSlots(config.maxTenantReads)
  }
  const open = new Map<string, number>()
  app.addHook('onClose', async () => { await agent.close() })

  async function admitFleet (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('x-request-id', request.id)
    if (options.draining()) reply.header('connection', 'close')
    request.gw = {}
    const client = await callerOf(options.policy.current, request)
    if (client === undefined) throw new GatewayError('GatewayUnauthenticated', 'Send a valid gateway API key in X-API-Key or Authorization: Bearer (every credential sent must be valid).')
    request.gw.client = client
    const refused = fleetTokenRefusal(client)
    if (refused !== undefined) throw refused
    if (request.method !== 'GET') throw new GatewayError('MethodNotAllowed', 'Fleet reads take GET only.')
  }

  async function fleetPage (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const policy = options.policy.current
    const client = request.gw.client as Client
    // Rewritten from Defender's root layout (an `organizations` token): its links keep that layout.
    const root = request.originalUrl !== request.url
    const ask = askOf(request.url.slice(FLEET_PREFIX.length))
    const header = request.headers[NARROW_HEADER]
    const state = stateOf(ask, client, narrowingDigest(policy, header))
    const route = routeOfLink(policy, state.target)
    if (route instanceof GatewayError) throw route
    request.gw.route = route
    const tenants = eligibleTenants(policy, client, route, header, 'cursor' in ask)
    const pages = open.get(client.name) ?? 0
    if (pages >= config.maxPagesPerClient) throw new GatewayError('RateLimited', `Client '${client.name}' already has ${pages} fleet pages open; follow one nextLink at a time.`, { 'retry-after': '1' })
    open.set(client.name, pages + 1)
    const gone = new AbortController()
    // 'close' comes on every path (finished, caller gone, never started), so the count cannot leak.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort()
      const left = (open.get(client.name) ?? 1) - 1
      if (left > 0) open.set(client.name, left)
      else open.delete(client.name)
    })
    reply.raw.setTimeout(Math.max(options.writeIdleMs, config.pageTimeoutMs + 5000), () => { reply.raw.destroy() })
    const base = `${options.publicBase(request)}${root ? '' : FLEET_PREFIX}${state.target.split('?')[0] ?? ''}`
    const stream = runPage(pageDeps, {
      client: client.name,
      tenants,
      state,
      requestId: request.id,
      signal: gone.signal,
      routeFor: (tenant, link) => routeFor(policy, client, tenant, link),
      follow: (tenant, next) => followLink(policy, client, tenant, state.target, next),
      nextLink: (after) => `${base}?${CURSOR_PARAM}=${encodeCursor(after, client.name, key)}`,
      finished (report) {
        request.log.info({ fleet: { tenants: report.tenants, done: report.done, inProgress: report.inProgress, notStarted: report.notStarted, items: report.items, complete: report.complete.length, pending: report.pending.length, failed: report.failed.length } }, 'fleet page')
      }
    })
    return reply.code(200).type('application/json; charset=utf-8').header('cache-control', 'no-store').send(stream)
  }

  function stateOf (ask: ReturnType<typeof askOf>, client: Client, narrowing: string | undefined): CursorState {
    const now = Math.floor(Date.now() / 1000)
    if ('target' in ask) return { target: ask.target, frontier: '', active: [], issuedAt: now, ...(narrowing === undefined ? {} : { narrowing }) }
    const check = decodeCursor(ask.cursor, client.name, key, now, config.cursorMaxAgeSeconds)
    if (!check.ok || check.state.target.split('?')[0] !== ask.path) {
      throw new GatewayError('BadRequest', `The fleet cursor is not valid here (${check.ok ? 'another path' : check.reason}): cursors are bound to the client and path that got them. Start again without ${CURSOR_PARAM}.`)
    }
    // The tenants of an iteration are fixed by its first page: a page that narrowed (or widened) them
    // silently would lose the items of the tenants it left out. Refused rather than overridden, so a
    // caller never gets other tenants than the header it sends says.
    if (check.state.narrowing !== narrowing) {
      throw new GatewayError('BadRequest', `Send ${NARROW_HEADER} with every page of a fleet read as on its first page (the same tenants, or none): the narrowing is part of the iteration. Or start again without ${CURSOR_PARAM}.`)
    }
    return check.state
  }

  for (const url of ['/fleet/api', '/fleet/api/*']) {
    app.route({ method: METHODS, url, exposeHeadRoute: false, onRequest: admitFleet, handler: fleetPage })
  }
}

/**
 * Fleet reads take an API key or a Defender token for `organizations`: a Graph token is refused as on
 * Defender routes, and a tenant's own token reads that tenant only.
 */
function fleetTokenRefusal (client: Client): GatewayError | undefined {
  if (client.tokenApi === 'graph') {
    return new GatewayError('GatewayUnauthenticated', 'This gateway token was issued for Microsoft Graph; ask the token endpoint for the Defender API resource to call Defender routes.')
  }
  if (client.tokenTenant !== undefined && client.tokenTenant !== FLEET_TENANT) {
    return new GatewayError('TenantNotAllowed', `A gateway token for tenant ${client.tokenTenant} reads that tenant only; fleet reads take an API key or a token for '${FLEET_TENANT}'.`)
  }
  return undefined
}

/**
 * The cursor key: fleet.cursorKey, else one derived (HKDF) from the app's credential, which every replica
 * and worker already shares, so cursors work across them without more config; random only without either.
 */
function cursorKeyOf (options: Pick<FleetOptions, 'cursorKey' | 'appSecret'>): Buffer {
  if (options.cursorKey !== undefined) return Buffer.from(options.cursorKey.reveal(), 'utf8')
  if (options.appSecret === undefined) return randomBytes(32)
  return Buffer.from(hkdfSync('sha256', options.appSecret.reveal(), 'defender-gateway', 'fleet cursor v1', 32))
}
