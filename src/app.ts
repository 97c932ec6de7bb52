import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { LoadedConfig } from './config/load.js'
import { createAuthenticator } from './callers/authenticate.js'
import { catalogue } from './policy/catalogue.js'
import { createMatcher } from './policy/match.js'
import { CLOUDS, regionTable } from './regions/clouds.js'
import { regionList } from './regions/select.js'
import { createMsalTokenSource, type Credential } from './tokens/msal-source.js'
import { createTokenProvider } from './tokens/token-provider.js'
import type { TokenSource } from './tokens/types.js'
import { createMetrics, type GatewayMetrics } from './observability/metrics.js'
import { createLogger } from './observability/logger.js'
import { buildAdminApp } from './admin/admin-app.js'
import { createAdmit } from './pipeline/admit.js'
import { createPrepare } from './pipeline/prepare.js'
import { createRecord } from './pipeline/record.js'
import { frameworkErrors, installErrorHandling, refuseConnect } from './pipeline/errors.js'
import type { TenantEntry } from './pipeline/state.js'
import { forwardPlugin } from './proxy/forward.js'
import { registerExplain } from './pipeline/explain-route.js'
import { VERSION } from './version.js'

export interface GatewayDeps {
  readonly logger?: Logger
  /** where tokens come from; msal-node against the configured authority unless a test swaps it */
  readonly tokenSource?: TokenSource
}

/** A built gateway: the API listener, the admin listener and their shared state. */
export interface Gateway {
  readonly app: FastifyInstance
  readonly admin: FastifyInstance
  readonly metrics: GatewayMetrics
  /** listens on server.* and admin.* (port 0 picks a free port); returns both base URLs */
  listen (): Promise<{ url: string, adminUrl: string }>
  close (): Promise<void>
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Wires the concerns in request order. Reads no environment, never exits, never listens by itself. */
export async function buildGateway (loaded: LoadedConfig, deps: GatewayDeps = {}): Promise<Gateway> {
  const { config, files } = loaded
  const logger = deps.logger ?? createLogger(config.logging.level)
  const metrics = createMetrics(VERSION)
  const cloud = CLOUDS[config.cloud]
  const authorityHost = config.identity.authorityHost ?? cloud.loginHost
  const tokens = createTokenProvider({
    source: deps.tokenSource ?? createMsalTokenSource({
      clientId: config.identity.clientId,
      authorityHost,
      scope: `${config.identity.resource ?? cloud.resource}/.default`,
      credential: credentialOf(loaded),
      caPem: files.caPem,
      timeoutMs: config.tokens.timeoutMs,
      maxClients: config.tokens.maxTenants,
      logger: logger.child({ component: 'tokens' })
    }),
    skewMs: config.tokens.skewSeconds * 1000,
    maxTenants: config.tokens.maxTenants,
    events: {
      hit: () => metrics.tokenCacheHits.inc(),
      acquired (_tenant, seconds) {
        metrics.tokenAcquisitions.inc({ outcome: 'success', error_class: 'none' })
        metrics.tokenAcquisitionDuration.observe({ outcome: 'success' }, seconds)
      },
      failed (tenant, kind, seconds, message) {
        metrics.tokenAcquisitions.inc({ outcome: 'failure', error_class: kind })
        metrics.tokenAcquisitionDuration.observe({ outcome: 'failure' }, seconds)
        logger.warn({ tenant, errorClass: kind, reason: message }, 'token acquisition failed')
      }
    }
  })
  const tenants = new Map<string, TenantEntry>()
  for (const t of config.tenants) {
    const entry: TenantEntry = { id: t.id, permissions: new Set(t.permissions), regions: t.regions }
    tenants.set(t.id, entry)
    if (t.name !== undefined) tenants.set(t.name.toLowerCase(), entry)
  }
  const consentUrl = (tenantId: string): string =>
    `${authorityHost.replace(/\/+$/, '')}/${tenantId}/adminconsent?client_id=${config.identity.clientId}`

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
    ...(files.tls === undefined ? {} : { https: { cert: files.tls.cert, key: files.tls.key.reveal() } })
  }) as unknown as FastifyInstance
  app.decorateRequest('gw', null as never)
  installErrorHandling(app, metrics)
  refuseConnect(app.server)
  app.addHook('onResponse', createRecord(metrics))
  const routes = catalogue(config.extraRoutes)
  const authenticate = createAuthenticator(config.clients)
  const admit = createAdmit({ authenticate, matchRoute: createMatcher(routes), tenants })
  app.setNotFoundHandler(admit.notFound)
  registerExplain(app, { authenticate, tenants, routes, tokens, consentUrl })
  await app.register(forwardPlugin, {
    admit: admit.hook,
    prepare: createPrepare({
      tokens,
      tenants,
      regions: regionList(regionTable(config.cloud, config.upstream.regions)),
      configuredRegion: config.upstream.region,
      consentUrl
    }),
    userAgent: `MdatpPartner-DefenderGateway/${VERSION}`,
    trustProxy: config.server.trustProxy,
    caPem: files.caPem,
    timeoutMs: config.upstream.timeoutMs,
    connectTimeoutMs: config.upstream.connectTimeoutMs,
    publicUrl: config.server.publicUrl,
    bodyLimitBytes: config.server.bodyLimitBytes
  })

  let ready = false
  const admin = buildAdminApp({ registry: metrics.registry, logger, isReady: () => ready })
  return {
    app,
    admin,
    metrics,
    async listen () {
      const adminUrl = await admin.listen({ host: config.admin.host, port: config.admin.port })
      const url = await app.listen({ host: config.server.host, port: config.server.port })
      ready = true
      return { url, adminUrl }
    },
    async close () {
      ready = false
      await app.close()
      await admin.close()
      tokens.close()
    }
  }
}

function credentialOf (loaded: LoadedConfig): Credential {
  const { secrets, files } = loaded
  if (secrets.certificateKey !== undefined && files.certificatePem !== undefined) {
    return { kind: 'certificate', privateKey: secrets.certificateKey, certPem: files.certificatePem }
  }
  if (secrets.clientSecret === undefined) throw new Error('identity needs a secret or a certificate')
  return { kind: 'secret', secret: secrets.clientSecret }
}
