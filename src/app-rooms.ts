import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SecureContext } from 'node:tls'
import type { Registry } from 'prom-client'
import type { LoadedConfig } from './config/load.js'
import type { OAuthSide, TokenEndpointHandle } from './app-oauth.js'
import { regionTable } from './regions/clouds.js'
import type { RegionDirectory } from './regions/directory.js'
import type { RegionMetrics } from './observability/region-metrics.js'
import { createOverloadMetrics } from './observability/overload-metrics.js'
import { createRewriteMetrics } from './observability/rewrite-metrics.js'
import { createInFlight } from './pipeline/in-flight.js'
import { createAdmit } from './pipeline/admit.js'
import { createPrepare } from './pipeline/prepare.js'
import { registerExplain } from './pipeline/explain-route.js'
import type { PolicyHolder } from './pipeline/policy-state.js'
import { knownLinkHosts } from './proxy/link-policy.js'
import { linkBase, type LinkBaseOptions } from './proxy/link-base.js'
import { forwardPlugin, type ForwardOptions } from './proxy/forward.js'
import type { GraphSide } from './graph/index.js'
import type { TokenProvider } from './tokens/types.js'
import type { RateBudgets } from './limits/types.js'
import type { ParsedConfig } from './config/schema.js'
import { graphAudiences } from './gateway-tokens/index.js'
import { registerTokenEndpoint } from './token-endpoint/index.js'
import { createPages, type Pages } from './pages/index.js'
import { registerFleet } from './fleet/index.js'
import { VERSION } from './version.js'

/** What the rooms on the API listener share, built once by buildGateway. */
export interface ApiRoomsContext {
  readonly loaded: LoadedConfig
  readonly oauth: OAuthSide | undefined
  readonly policy: PolicyHolder
  readonly tokens: TokenProvider
  readonly graphTokens: TokenProvider
  readonly budgets: RateBudgets
  readonly regions: RegionDirectory
  readonly regionMetrics: RegionMetrics
  readonly registry: Registry
  readonly tlsContext: SecureContext | undefined
  readonly graph: GraphSide
  readonly clusterWorker: boolean
  consentUrl (tenantId: string): string
  /** the config in force (changes on reload) */
  current (): ParsedConfig
  draining (): boolean
  now (): number
}

/** The rooms that keep state after registration: the token endpoint (reload) and the status pages (admin). */
export interface ApiRooms {
  readonly tokenEndpoint: TokenEndpointHandle | undefined
  readonly pages: Pages
}

const USER_AGENT = `MdatpPartner-DefenderGateway/${VERSION}`

/** Registers every room of the API listener in request order: explain, token endpoint, pages, fleet, proxy. */
export async function registerApiRooms (app: FastifyInstance, ctx: ApiRoomsContext): Promise<ApiRooms> {
  const { config, files } = ctx.loaded
  const { oauth, policy, tokens, graphTokens, consentUrl, now } = ctx
  const inFlightLimits = { perClient: config.server.maxInFlightPerClient, perTenant: config.server.maxInFlightPerTenant }
  const inFlight = createInFlight(inFlightLimits)
  const overload = createOverloadMetrics(ctx.registry, inFlight.total)
  const admit = createAdmit({ policy, draining: ctx.draining })
  app.setNotFoundHandler(admit.notFound)
  registerExplain(app, { policy, tokens, graphTokens, consentUrl })
  const linkBaseOptions: LinkBaseOptions = { publicUrl: config.server.publicUrl, trustProxy: config.server.trustProxy, tls: files.tls !== undefined, listenHost: config.server.host }
  const publicBase = (request: FastifyRequest): string => linkBase(linkBaseOptions, { headers: request.headers, localAddress: request.socket.localAddress, localPort: request.socket.localPort })
  const tokenEndpoint = oauth === undefined
    ? undefined
    : await registerTokenEndpoint(app, { oauth: oauth.config, ring: oauth.ring, resources: oauth.resources, graphResources: graphAudiences(config.cloud), policy, clients: config.clients, metrics: oauth.metrics, publicBase, now, trustProxy: config.server.trustProxy, bodyIdleTimeoutMs: config.server.bodyIdleTimeoutMs, requestDeadlineMs: config.server.requestDeadlineMs, fleet: config.fleet.enabled })
  const pages = createPages({
    loaded: ctx.loaded,
    policy,
    tokens,
    graphTokens,
    budgets: ctx.budgets,
    regions: ctx.regions,
    current: ctx.current,
    consentUrl,
    publicBase,
    publicOrigin: () => {
      const address = app.server.address()
      return linkBase(linkBaseOptions, { headers: {}, ...(typeof address === 'object' && address !== null ? { localAddress: address.address, localPort: address.port } : {}) })
    },
    oauthIssued: oauth?.metrics.issued,
    registry: ctx.registry,
    clusterWorker: ctx.clusterWorker,
    now
  })
  await pages.registerOnboarding(app)
  if (config.fleet.enabled) await registerFleetRoom(app, ctx, publicBase)
  await registerProxyRoom(app, ctx, { admit: admit.hook, inFlight, inFlightLimits, cut: (reason) => overload.refusals.inc({ reason }), linkBaseOptions })
  return { tokenEndpoint, pages }
}

async function registerFleetRoom (app: FastifyInstance, ctx: ApiRoomsContext, publicBase: (request: FastifyRequest) => string): Promise<void> {
  const { config, secrets } = ctx.loaded
  await registerFleet(app, {
    config: config.fleet,
    cursorKey: secrets.fleetCursorKey,
    appSecret: secrets.clientSecret ?? secrets.certificateKey,
    writeIdleMs: config.server.responseWriteIdleMs,
    policy: ctx.policy,
    budgets: ctx.budgets,
    tokens: ctx.tokens,
    regions: ctx.regions,
    registry: ctx.registry,
    userAgent: USER_AGENT,
    tlsContext: ctx.tlsContext,
    upstream: config.upstream,
    consentUrl: ctx.consentUrl,
    failedOver: (from, to) => ctx.regionMetrics.failovers.inc({ from, to }),
    publicBase,
    draining: ctx.draining
  })
}

/** What the proxy room takes from registerApiRooms besides the shared context. */
type ProxyRoomParts = Pick<ForwardOptions, 'admit' | 'inFlight' | 'inFlightLimits' | 'cut'> & { readonly linkBaseOptions: LinkBaseOptions }

async function registerProxyRoom (app: FastifyInstance, ctx: ApiRoomsContext, parts: ProxyRoomParts): Promise<void> {
  const { config } = ctx.loaded
  const { tokens, graphTokens, regions, policy, graph, consentUrl } = ctx
  const { admit, inFlight, inFlightLimits, cut, linkBaseOptions } = parts
  const selected = (region: string): void => { ctx.regionMetrics.selections.inc({ region }) }
  await app.register(forwardPlugin, {
    admit,
    prepare: createPrepare({ tokens, budgets: ctx.budgets, policy, regions, graph: { tokens: graphTokens, region: graph.region }, selected, consentUrl }),
    regions,
    tokens,
    graphTokens,
    budgets: ctx.budgets,
    failedOver: (from, to) => ctx.regionMetrics.failovers.inc({ from, to }),
    userAgent: USER_AGENT,
    tlsContext: ctx.tlsContext,
    timeoutMs: config.upstream.timeoutMs,
    connectTimeoutMs: config.upstream.connectTimeoutMs,
    connections: config.upstream.connections,
    inFlight,
    inFlightLimits,
    bodyIdleTimeoutMs: config.server.bodyIdleTimeoutMs,
    requestDeadlineMs: config.server.requestDeadlineMs,
    writeIdleMs: config.server.responseWriteIdleMs,
    cut,
    responses: {
      linkHosts: knownLinkHosts(config.cloud, Object.values(regionTable(config.cloud, config.upstream.regions)), config.upstream.nextLinkHosts),
      linkBase: linkBaseOptions,
      inflate: { maxBytes: config.upstream.maxInflatedBytes, maxRatio: config.upstream.maxInflationRatio },
      metrics: createRewriteMetrics(ctx.registry),
      graph: { linkHosts: graph.linkHosts, apiPath: graph.apiPath }
    },
    bodyLimitBytes: config.server.bodyLimitBytes
  })
}
