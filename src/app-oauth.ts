import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { LoadedConfig } from './config/load.js'
import type { OAuthConfig, ParsedConfig } from './config/schema.js'
import { acceptedResources, createGatewayTokenVerifier, createKeyRing, graphAudiences, type GatewayTokenVerifier, type KeyRing } from './gateway-tokens/index.js'
import { createOAuthMetrics, type OAuthMetrics } from './token-endpoint/index.js'

/** The oauth section as the gateway runs it at start; undefined when the section or its keys are absent. */
export interface OAuthSide {
  readonly config: OAuthConfig
  readonly ring: KeyRing
  readonly metrics: OAuthMetrics
  readonly resources: ReadonlySet<string>
}

/** The token endpoint's reload, as app.ts holds it once the endpoint is registered. */
export interface TokenEndpointHandle {
  reload (next: { clients: LoadedConfig['config']['clients'], oauth?: { config: OAuthConfig, ring: KeyRing } }): void
}

/** Builds the start-time oauth side, so app.ts decides once whether gateway tokens exist. */
export function createOAuthSide (loaded: LoadedConfig, registry: Registry): OAuthSide | undefined {
  const { config } = loaded
  if (config.oauth === undefined || loaded.secrets.oauthKeys === undefined) return undefined
  return { config: config.oauth, ring: createKeyRing(loaded.secrets.oauthKeys), metrics: createOAuthMetrics(registry), resources: acceptedResources(config.cloud) }
}

/** The bearer-token verifier for one key ring and issuer; rebuilt on reload when keys or settings change. */
export function oauthVerifier (oauth: OAuthSide, cloud: ParsedConfig['cloud'], now: () => number): GatewayTokenVerifier {
  return createGatewayTokenVerifier({ ring: oauth.ring, issuer: oauth.config.issuer, audiences: oauth.resources, graphAudiences: graphAudiences(cloud), now }, oauth.metrics.bearerRejections)
}

interface OAuthReloadDeps {
  readonly oauth: OAuthSide | undefined
  readonly tokenEndpoint: TokenEndpointHandle | undefined
  readonly logger: Logger
  readonly cloud: ParsedConfig['cloud']
  readonly now: () => number
}

/**
 * The oauth section as far as a reload can apply it: removed → gateway tokens refused and the token
 * endpoint off at once; changed settings or keys (re-read with the config) → in force at once; added
 * when it was off at start → a warning (the endpoint is registered only at start: restart).
 */
export function createOAuthReload (deps: OAuthReloadDeps): (next: LoadedConfig) => GatewayTokenVerifier | undefined {
  const { oauth, tokenEndpoint, logger } = deps
  let oauthRing = oauth?.ring
  return function reloadOAuth (next) {
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
    return oauthVerifier({ ...oauth, config: wanted.config, ring }, deps.cloud, deps.now)
  }
}
