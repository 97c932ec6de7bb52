import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { LoadedConfig } from './config/load.js'
import { diffReload, type ReloadDiff } from './config/reload-diff.js'
import { consentLink, regionTable } from './regions/clouds.js'
import { regionList } from './regions/select.js'
import { createRegionDirectory, type RegionDirectory } from './regions/directory.js'
import { createProbe, type Probe } from './regions/prober.js'
import { createRegionMetrics } from './observability/region-metrics.js'
import { createGatewayTokens } from './tokens/wiring.js'
import { createGraphSide } from './graph/index.js'
import { createSharedState } from './redis/shared-state.js'
import type { TokenSource } from './tokens/types.js'
import { createMetrics, type GatewayMetrics } from './observability/metrics.js'
import { createProcessMetrics } from './observability/process-metrics.js'
import { createLogger } from './observability/logger.js'
import { buildAdminApp } from './admin/admin-app.js'
import { buildPolicy, type PolicyHolder } from './pipeline/policy-state.js'
import { closeGracefully } from './pipeline/graceful-close.js'
import { VERSION } from './version.js'
import { outboundTlsContext } from './trust.js'
import { createOAuthReload, createOAuthSide, oauthVerifier } from './app-oauth.js'
import { registerApiRooms } from './app-rooms.js'
import { createApiListener } from './app-listener.js'

export interface GatewayDeps {
  readonly logger?: Logger
  /** where tokens come from; msal-node against the configured authority unless a test swaps it */
  readonly tokenSource?: TokenSource
  /** where Graph tokens come from; msal-node (scope `{graph host}/.default`) unless a test swaps it */
  readonly graphTokenSource?: TokenSource
  /**
   * wraps the region probe; tests fix what it reports as RTT (the real round trip still decides up or
   * down), because on a busy machine measured milliseconds can invert the order `auto` chooses by
   */
  readonly probe?: (real: Probe) => Probe
  /** set in each process of a cluster (server.workers > 1, src/cluster) */
  readonly worker?: WorkerPlacement
  /** ms since the epoch for gateway tokens (issue, expiry, guess windows); tests inject a clock */
  readonly now?: () => number
}

/** What changes for a gateway that is one of several worker processes on the host. */
export interface WorkerPlacement {
  /** worker processes on the host: each keeps 1/count of every in-memory rate budget */
  readonly count: number
  /** this worker's own admin listener (the primary owns admin.host:admin.port and forwards to it) */
  readonly adminListen: { readonly host: string, readonly port: number, readonly exclusive: true }
}

/** A built gateway: the API listener, the admin listener and their shared state. */
export interface Gateway {
  readonly app: FastifyInstance
  readonly admin: FastifyInstance
  readonly metrics: GatewayMetrics
  readonly regions: RegionDirectory
  /** listens on server.* and admin.* (port 0 picks a free port); returns both base URLs */
  listen (): Promise<{ url: string, adminUrl: string }>
  /** applies a new config's clients, tenants, extra routes and oauth section (SIGHUP; other keys need a restart) and says which lists changed */
  reload (next: LoadedConfig): ReloadDiff
  /** stops taking traffic, lets in-flight requests finish, then releases everything */
  close (): Promise<void>
}

/** Wires the concerns in request order. Reads no environment, never exits, never listens by itself. */
export async function buildGateway (loaded: LoadedConfig, deps: GatewayDeps = {}): Promise<Gateway> {
  const { config, files } = loaded
  const logger = deps.logger ?? createLogger(config.logging.level)
  const metrics = createMetrics(VERSION, { tenantLabel: config.metrics.tenantLabel })
  const shared = createSharedState(loaded, { logger, metrics, workers: deps.worker?.count })
  const { tokens, graphTokens } = createGatewayTokens({ loaded, metrics, logger, tokenSource: deps.tokenSource, graphTokenSource: deps.graphTokenSource, shared: shared.tokenStore })
  const graph = createGraphSide(config)
  const now = deps.now ?? Date.now
  const oauth = createOAuthSide(loaded, metrics.registry)
  const policy: PolicyHolder = { current: buildPolicy(config, oauth === undefined ? undefined : oauthVerifier(oauth, config.cloud, now)) }
  let tenantList = config.tenants
  let applied = config
  const consentUrl = (tenantId: string): string => consentLink(config, tenantId)
  const app = createApiListener(loaded, logger, metrics, config.fleet.enabled && oauth !== undefined)
  const tlsContext = outboundTlsContext(files.caPem)
  const regionMetrics = createRegionMetrics(metrics.registry)
  const realProbe = createProbe({ tlsContext, timeoutMs: config.upstream.probeTimeoutMs })
  const regions = createRegionDirectory({
    table: regionList(regionTable(config.cloud, config.upstream.regions)),
    configured: config.upstream.region,
    probe: deps.probe === undefined ? realProbe : Object.assign(deps.probe(realProbe), { close: realProbe.close }),
    intervalMs: config.upstream.probeIntervalMs,
    metrics: regionMetrics,
    logger: logger.child({ component: 'regions' })
  })
  const processMetrics = createProcessMetrics(metrics.registry)
  let ready = false
  let draining = false
  const { tokenEndpoint, pages } = await registerApiRooms(app, {
    loaded,
    oauth,
    policy,
    tokens,
    graphTokens,
    budgets: shared.budgets,
    regions,
    regionMetrics,
    registry: metrics.registry,
    tlsContext,
    graph,
    clusterWorker: deps.worker !== undefined,
    consentUrl,
    current: () => applied,
    draining: () => draining,
    now
  })
  const reloadOAuth = createOAuthReload({ oauth, tokenEndpoint, logger, cloud: config.cloud, now })

  const admin = buildAdminApp({
    registry: metrics.registry,
    logger,
    isReady: () => ready,
    adminToken: loaded.secrets.adminToken,
    tenants: { policy, tokens, graphTokens, regions, consentUrl },
    statusPages: pages.status,
    regionsView: () => ({
      configured: config.upstream.region,
      regions: regions.snapshot(),
      tenants: tenantList.map((t) => ({ id: t.id, name: t.name, allowed: t.regions ?? 'all', order: regions.rank(t.regions).map((r) => r.name) }))
    })
  })
  return {
    app,
    admin,
    metrics,
    regions,
    async listen () {
      // Measure the regions before taking traffic, so `auto` places the first requests well.
      await regions.start()
      // With Redis, wait (briefly) for it, so replicas starting together share from the first request.
      await shared.whenReady(config.redis?.connectTimeoutMs ?? 0)
      const adminUrl = await admin.listen(deps.worker?.adminListen ?? { host: config.admin.host, port: config.admin.port })
      const url = await app.listen({ host: config.server.host, port: config.server.port })
      ready = true
      return { url, adminUrl }
    },
    reload (next) {
      policy.current = buildPolicy(next.config, reloadOAuth(next))
      tenantList = next.config.tenants
      const diff = diffReload(applied, next.config)
      applied = next.config
      return diff
    },
    async close () {
      // Readiness fails first and answers ask clients to reconnect, so a load balancer moves traffic
      // away before the listener closes; in-flight requests then finish before close() resolves.
      ready = false
      draining = true
      if (config.server.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.server.drainDelayMs))
      await closeGracefully(app.server, () => app.close())
      await admin.close()
      regions.close()
      processMetrics.close()
      tokens.close()
      graphTokens.close()
      await shared.close()
    }
  }
}
