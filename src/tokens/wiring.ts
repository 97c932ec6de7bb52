import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load.js'
import type { ParsedConfig } from '../config/schema.js'
import { createTokenMetrics, type GatewayMetrics } from '../observability/metrics.js'
import { createTokenCheckMetrics, type TokenCheckMetrics } from '../observability/token-check-metrics.js'
import { CLOUDS } from '../regions/clouds.js'
import { GRAPH_APP_ID, GRAPH_HOSTS } from '../graph/clouds.js'
import { storeForResource } from './resource-store.js'
import { watchCredentialExpiry } from './credentials.js'
import { createMsalTokenSource } from './msal-source.js'
import { DEFAULT_REFRESH } from './refresh.js'
import { createTokenProvider, type TokenEvents } from './token-provider.js'
import type { SharedTokenStore, TokenProvider, TokenSource } from './types.js'

const DAY_MS = 86_400_000

/**
 * Where tokens come from for a config: the cloud's login host and resource unless a key overrides them.
 * `resource` is also what every token's `aud` is checked against.
 */
export function tokenEndpoint (config: Pick<ParsedConfig, 'cloud' | 'identity'>): { authorityHost: string, scope: string, resource: string } {
  const cloud = CLOUDS[config.cloud]
  const resource = config.identity.resource ?? cloud.resource
  return {
    authorityHost: config.identity.authorityHost ?? cloud.loginHost,
    scope: `${resource}/.default`,
    resource
  }
}

export interface GatewayTokensOptions {
  readonly loaded: LoadedConfig
  readonly metrics: GatewayMetrics
  readonly logger: Logger
  /** a test's token source instead of msal */
  readonly tokenSource?: TokenSource
  /** a test's token source for the Graph resource instead of msal */
  readonly graphTokenSource?: TokenSource
  /** the replicas' shared token store (Redis), when redis.url is set */
  readonly shared?: SharedTokenStore | undefined
}

/**
 * The token layer as the gateway runs it: msal source with the configured credentials, the provider
 * with its refresh and backoff policy, and their events turned into metrics and logs.
 */
export function createGatewayTokens (options: GatewayTokensOptions): { tokens: TokenProvider, graphTokens: TokenProvider, authorityHost: string } {
  const { loaded, metrics } = options
  const { config } = loaded
  const logger = options.logger.child({ component: 'tokens' })
  const m = createTokenMetrics(metrics.registry)
  const { authorityHost, scope, resource } = tokenEndpoint(config)
  const msalFor = (forScope: string): TokenSource => createMsalTokenSource({
    clientId: config.identity.clientId,
    authorityHost,
    scope: forScope,
    credentials: loaded.credentials,
    caPem: loaded.files.caPem,
    timeoutMs: config.tokens.timeoutMs,
    logger,
    onCredentialRejected: (name) => m.credentialRejections.inc({ credential: name })
  })
  const source = options.tokenSource ?? msalFor(scope)
  const graph = graphTokenEndpoint(config)
  const graphSource = options.graphTokenSource ?? msalFor(graph.scope)
  const stopWatch = watchCredentialExpiry({
    credentials: loaded.credentials,
    warnMs: config.identity.expiryWarningDays * DAY_MS,
    now: Date.now,
    report: (name, expiresOn) => m.credentialExpiry.set({ credential: name }, Math.floor(expiresOn / 1000)),
    warn (name, expiresOn, expired) {
      const at = new Date(expiresOn).toISOString()
      if (expired) logger.error({ credential: name, expiresOn: at }, 'app credential has expired; Entra ID will refuse it')
      else logger.warn({ credential: name, expiresOn: at, days: Math.floor((expiresOn - Date.now()) / DAY_MS) }, 'app credential expires soon; rotate it')
    }
  })
  const checks = createTokenCheckMetrics(metrics.registry)
  // One provider per resource of the same app: own cache, single-flight, refresh, backoff and shared
  // entries, so the (tenant, resource) pairs never share a token.
  const provider = (forSource: TokenSource, forResource: string, shared: SharedTokenStore | undefined, audienceAliases?: readonly string[]): ReturnType<typeof createTokenProvider> => createTokenProvider({
    source: forSource,
    resource: forResource,
    audienceAliases,
    reacquireCooldownMs: config.tokens.reacquireCooldownMs,
    skewMs: config.tokens.skewSeconds * 1000,
    maxTenants: config.tokens.maxTenants,
    negativeTtlMs: config.tokens.notOnboardedTtlSeconds * 1000,
    backoff: config.tokens.backoff,
    refresh: config.tokens.refreshAheadSeconds === 0 ? false : { ...DEFAULT_REFRESH, leadMs: config.tokens.refreshAheadSeconds * 1000 },
    // Log lines say which resource (the metrics are shared by both, without a label).
    events: tokenEvents(metrics, m, checks, logger.child({ resource: forResource })),
    shared,
    sharedWait: { lockMs: Math.max(10_000, config.tokens.timeoutMs * 2), pollMs: 50, maxWaitMs: config.tokens.timeoutMs }
  })
  const tokens = provider(source, resource, options.shared)
  const graphTokens = provider(graphSource, graph.resource, options.shared === undefined ? undefined : storeForResource(options.shared, 'graph'), [GRAPH_APP_ID])
  return {
    authorityHost,
    tokens: {
      get: tokens.get,
      refresh: tokens.refresh,
      purge: tokens.purge,
      reacquireWaitMs: tokens.reacquireWaitMs,
      status: tokens.status,
      forgetRefusal: tokens.forgetRefusal,
      close () { stopWatch(); tokens.close() }
    },
    graphTokens
  }
}

/** The Graph resource of the configured cloud (or `graph.resource`); the scope is `${resource}/.default`. */
export function graphTokenEndpoint (config: Pick<ParsedConfig, 'cloud' | 'graph'>): { scope: string, resource: string } {
  const resource = (config.graph.resource ?? GRAPH_HOSTS[config.cloud]).replace(/\/+$/, '')
  return { scope: `${resource}/.default`, resource }
}

function tokenEvents (metrics: GatewayMetrics, m: ReturnType<typeof createTokenMetrics>, checks: TokenCheckMetrics, logger: Logger): TokenEvents {
  return {
    hit: () => metrics.tokenCacheHits.inc(),
    acquired (_tenant, seconds, background) {
      metrics.tokenAcquisitions.inc({ outcome: 'success', error_class: 'none' })
      metrics.tokenAcquisitionDuration.observe({ outcome: 'success' }, seconds)
      if (background) m.refreshes.inc({ outcome: 'success' })
    },
    failed (tenant, kind, seconds, message, background) {
      metrics.tokenAcquisitions.inc({ outcome: 'failure', error_class: kind })
      metrics.tokenAcquisitionDuration.observe({ outcome: 'failure' }, seconds)
      if (background) m.refreshes.inc({ outcome: 'failure' })
      // Our own credential failing needs an operator now; the other classes are the tenant's or Entra's.
      const level = kind === 'bad-credential' ? 'error' : 'warn'
      logger[level]({ tenant, errorClass: kind, background, reason: message }, 'token acquisition failed')
    },
    servedStale: () => m.staleServed.inc(),
    backedOff: (_tenant, kind) => m.backoffRefusals.inc({ error_class: kind }),
    idle: () => m.refreshes.inc({ outcome: 'skipped_idle' }),
    shared: () => m.sharedHits.inc(),
    mismatch (details, background) {
      checks.checkFailures.inc({ reason: details.reason, origin: details.origin })
      // Both tenant ids and the audience, never the token: enough to tell a misrouted identity path.
      logger.error({ tenant: details.tenantId, tokenTenant: details.tokenTenant, audience: details.audience, reason: details.reason, origin: details.origin, background },
        'token failed its check (another tenant or resource); purged from memory and the shared store, nothing forwarded')
    },
    reacquire: (_tenant, outcome) => checks.reacquisitions.inc({ outcome })
  }
}
