import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { LoadedConfig } from './config/load.js'
import { diffReload, type ReloadDiff } from './config/reload-diff.js'
import { consentLink, regionTable } from './regions/clouds.js'
import { regionList } from './regions/select.js'
import { createRegionDirectory, type RegionDirectory } from './regions/directory.js'
import { createProbe, type Probe } from './regions/prober.js'
import { createRegionMetrics } from './observability/region-metrics.js'
import { createOverloadMetrics } from './observability/overload-metrics.js'
import { createInFlight } from './pipeline/in-flight.js'
import { createRewriteMetrics } from './observability/rewrite-metrics.js'
import { knownLinkHosts } from './proxy/link-policy.js'
import { linkBase } from './proxy/link-base.js'
import { createGatewayTokens } from './tokens/wiring.js'
import { createGraphSide } from './graph/index.js'
import { createSharedState } from './redis/shared-state.js'
import type { TokenSource } from './tokens/types.js'
import { createMetrics, type GatewayMetrics } from './observability/metrics.js'
import { createProcessMetrics } from './observability/process-metrics.js'
import { createLogger } from './observability/logger.js'
import { buildAdminApp } from './admin/admin-app.js'
import { createAdmit } from './pipeline/admit.js'
import { buildPolicy, type PolicyHolder } from './pipeline/policy-state.js'
import { closeGracefully } from './pipeline/graceful-close.js'
import { createPrepare } from './pipeline/prepare.js'
import { createRecord } from './pipeline/record.js'
import { clientErrorHandler, frameworkErrors, installErrorHandling, refuseConnect } from './pipeline/errors.js'
import { forwardPlugin } from './proxy/forward.js'
import { registerExplain } from './pipeline/explain-route.js'
import { VERSION } from './version.js'
import { outboundTlsContext } from './trust.js'
import { acceptedResources, createGatewayTokenVerifier, graphAudiences, createKeyRing, type GatewayTokenVerifier } from './gateway-tokens/index.js'
import { createOAuthMetrics, registerTokenEndpoint } from './token-endpoint/index.js'
import { createPages } from './pages/index.js'
import { fleetRewrite, registerFleet } from './fleet/index.js'

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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Wires the concerns in request order. Reads no environment, never exits, never listens by itself. */
export async function buildGateway (loaded: LoadedConfig, deps: GatewayDeps = {}): Promise<Gateway> {
  const { config, files } = loaded
  const logger = deps.logger ?? createLogger(config.logging.level)
  const metrics = createMetrics(VERSION, { tenantLabel: config.metrics.tenantLabel })
  const shared = createSharedState(loaded, { logger, metrics, workers: deps.worker?.count })
  const { tokens, graphTokens } = createGatewayTokens({ loaded, metrics, logger, tokenSource: deps.tokenSource, graphTokenSource: deps.graphTokenSource, shared: shared.tokenStore })
  const graph = createGraphSide(config)
  const now = deps.now ?? Date.now
  const oauth = config.oauth === undefined || loaded.secrets.oauthKeys === undefined
    ? undefined
    : { config: config.oauth, ring: createKeyRing(loaded.secrets.oauthKeys), metrics: createOAuthMetrics(metrics.registry), resources: acceptedResources(config.cloud) }
  let verifier = oauth === undefined
    ? undefined
    : createGatewayTokenVerifier({ ring: oauth.ring, issuer: oauth.config.issuer, audiences: oauth.resources, graphAudiences: graphAudiences(config.cloud), now }, oauth.metrics.bearerRejections)
  let oauthRing = oauth?.ring
  const policy: PolicyHolder = { current: buildPolicy(config, verifier) }
  let tenantList = config.tenants
  let applied = config
  const consentUrl = (tenantId: string): string => consentLink(config, tenantId)

  const app = Fastify({
    loggerInstance: logger,
    // One access line per request comes from the onResponse hook instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    trustProxy: config.server.trustProxy,
    bodyLimit: config.server.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    frameworkErrors,
    clientErrorHandler,
    // While draining, requests on open connections are still served (with Connection: close), not 503'd.
    return503OnClosing: false,
    ...(config.fleet.enabled && oauth !== undefined ? { rewriteUrl: fleetRewrite } : {}),
    ...(files.tls === undefined ? {} : { https: { cert: files.tls.cert, key: files.tls.key.reveal() } })
  }) as unknown as FastifyInstance
  app.decorateRequest('gw', null as never)
  installErrorHandling(app, metrics)
  refuseConnect(app.server)
  app.addHook('onResponse', createRecord(metrics))
  // Every answer of this listener carries its request id (design §3), whichever room answers it.
  app.addHook('onRequest', function requestIdHeader (request, reply, done) { reply.header('x-request-id', request.id); done() })
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
  const inFlightLimits = { perClient: config.server.maxInFlightPerClient, perTenant: config.server.maxInFlightPerTenant }
  const inFlight = createInFlight(inFlightLimits)
  const overload = createOverloadMetrics(metrics.registry, inFlight.total)
  const processMetrics = createProcessMetrics(metrics.registry)
  let ready = false
  let draining = false
  const admit = createAdmit({ policy, draining: () => draining })
  app.setNotFoundHandler(admit.notFound)
  registerExplain(app, { policy, tokens, graphTokens, consentUrl })
  const linkBaseOptions = { publicUrl: config.server.publicUrl, trustProxy: config.server.trustProxy, tls: files.tls !== undefined, listenHost: config.server.host }
  const publicBase = (request: FastifyRequest): string => linkBase(linkBaseOptions, { headers: request.headers, localAddress: request.socket.localAddress, localPort: request.socket.localPort })
  const tokenEndpoint = oauth === undefined
    ? undefined
    : await registerTokenEndpoint(app, { oauth: oauth.config, ring: oauth.ring, resources: oauth.resources, graphResources: graphAudiences(config.cloud), policy, clients: config.clients, metrics: oauth.metrics, publicBase, now, trustProxy: config.server.trustProxy, bodyIdleTimeoutMs: config.server.bodyIdleTimeoutMs, requestDeadlineMs: config.server.requestDeadlineMs, fleet: config.fleet.enabled })
  const pages = createPages({
    loaded,
    policy,
    tokens,
    graphTokens,
    budgets: shared.budgets,
    regions,
    current: () => applied,
    consentUrl,
    publicBase,
    publicOrigin: () => {
      const address = app.server.address()
      return linkBase(linkBaseOptions, { headers: {}, ...(typeof address === 'object' && address !== null ? { localAddress: address.address, localPort: address.port } : {}) })
    },
    oauthIssued: oauth?.metrics.issued,
    registry: metrics.registry,
    clusterWorker: deps.worker !== undefined,
    now
  })
  await pages.registerOnboarding(app)
  if (config.fleet.enabled) {
    await registerFleet(app, {
      config: config.fleet,
      cursorKey: loaded.secrets.fleetCursorKey,
      appSecret: loaded.secrets.clientSecret ?? loaded.secrets.certificateKey,
      writeIdleMs: config.server.responseWriteIdleMs,
      policy,
      budgets: shared.budgets,
      tokens,
      regions,
      registry: metrics.registry,
      userAgent: `MdatpPartner-DefenderGateway/${VERSION}`,
      tlsContext,
      upstream: config.upstream,
      consentUrl,
      failedOver: (from, to) => regionMetrics.failovers.inc({ from, to }),
      publicBase,
      draining: () => draining
    })
  }
  await app.register(forwardPlugin, {
    admit: admit.hook,
    prepare: createPrepare({
      tokens,
      budgets: shared.budgets,
      policy,
      regions,
      graph: { tokens: graphTokens, region: graph.region },
      selected: (region) => regionMetrics.selections.inc({ region }),
      consentUrl
    }),
    regions,
    tokens,
    graphTokens,
    budgets: shared.budgets,
    failedOver: (from, to) => regionMetrics.failovers.inc({ from, to }),
    userAgent: `MdatpPartner-DefenderGateway/${VERSION}`,
    tlsContext,
    timeoutMs: config.upstream.timeoutMs,
    connectTimeoutMs: config.upstream.connectTimeoutMs,
    connections: config.upstream.connections,
    inFlight,
    inFlightLimits,
    bodyIdleTimeoutMs: config.server.bodyIdleTimeoutMs,
    requestDeadlineMs: config.server.requestDeadlineMs,
    writeIdleMs: config.server.responseWriteIdleMs,
    cut: (reason) => overload.refusals.inc({ reason }),
    responses: {
      linkHosts: knownLinkHosts(config.cloud, Object.values(regionTable(config.cloud, config.upstream.regions)), config.upstream.nextLinkHosts),
      linkBase: linkBaseOptions,
      inflate: { maxBytes: config.upstream.maxInflatedBytes, maxRatio: config.upstream.maxInflationRatio },
      metrics: createRewriteMetrics(metrics.registry),
      graph: { linkHosts: graph.linkHosts, apiPath: graph.apiPath }
    },
    bodyLimitBytes: config.server.bodyLimitBytes
  })

  /**
   * The oauth section as far as a reload can apply it: removed → gateway tokens refused and the token
   * endpoint off at once; changed settings or keys (re-read with the config) → in force at once; added
   * when it was off at start → a warning (the endpoint is registered only at start: restart).
   */
  function reloadOAuth (next: LoadedConfig): GatewayTokenVerifier | undefined {
    const wanted = next.config.oauth !== undefined && next.secrets.oauthKeys !== undefined ? { config: next.config.oauth, keys: next.secrets.oauthKeys } : undefined
    if (oauth === undefined || tokenEndpoint === undefined) {
      if (wanted !== undefined) logger.warn({ event: 'config_reload', section: 'oauth' }, 'reload: the oauth section was added; the token endpoint is turned on only at start (restart to apply)')
      return undefined
    }
    if (wanted === undefined) {
      if (oauthRing !== undefined) logger.warn({ event: 'config_reload', section: 'oauth' }, 'reload: the oauth section was removed; gateway tokens are refused and the token endpoint is off from now on')
      oauthRing = undefined
      tokenEndpoint.reload({ clients: next.config.clients })
      return undefined
    }
    const ring = createKeyRing(wanted.keys)
    if (oauthRing === undefined) logger.warn({ event: 'config_reload', section: 'oauth' }, 'reload: the oauth section is back; the token endpoint and gateway tokens are on again')
    else if (ring.all.map((k) => k.kid).join() !== oauthRing.all.map((k) => k.kid).join()) logger.info({ event: 'config_reload', section: 'oauth' }, 'reload: oauth signing keys changed; applied')
    oauthRing = ring
    tokenEndpoint.reload({ clients: next.config.clients, oauth: { config: wanted.config, ring } })
    return createGatewayTokenVerifier({ ring, issuer: wanted.config.issuer, audiences: oauth.resources, graphAudiences: graphAudiences(config.cloud), now }, oauth.metrics.bearerRejections)
  }

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
      verifier = reloadOAuth(next)
      policy.current = buildPolicy(next.config, verifier)
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
