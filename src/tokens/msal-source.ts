import { createHash, X509Certificate } from 'node:crypto'
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node'
import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'
import { createNetworkClient } from './network-client.js'
import { classify } from './classify.js'
import { TokenError, type AcquiredToken, type TokenSource } from './types.js'

export type Credential =
  | { readonly kind: 'secret', readonly secret: { reveal (): string } }
  | { readonly kind: 'certificate', readonly privateKey: { reveal (): string }, readonly certPem: string }

export interface MsalSourceOptions {
  readonly clientId: string
  /** e.g. https://login.microsoftonline.com (no tenant) */
  readonly authorityHost: string
  readonly scope: string
  readonly credential: Credential
  readonly caPem?: string
  readonly timeoutMs: number
  readonly maxClients: number
  readonly logger: Logger
}

/**
 * Tokens from Entra ID through msal-node, one ConfidentialClientApplication per tenant (msal's shared
 * cache is O(n) per hit and a certificate re-signs per tenant switch: reference/msal-node.md).
 */
export function createMsalTokenSource (options: MsalSourceOptions): TokenSource {
  const networkClient = createNetworkClient({ caPem: options.caPem, timeoutMs: options.timeoutMs })
  const host = new URL(options.authorityHost).host
  const base = `https://${host}`
  // Metadata for every host, so msal never makes discovery calls (offline, sovereign, tests alike).
  const authorityMetadata = JSON.stringify({
    token_endpoint: `${base}/{tenant}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/{tenant}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/{tenant}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/{tenant}/discovery/v2.0/keys`,
    issuer: `${base}/{tenant}/v2.0`
  })
  const auth = credentialAuth(options.credential)
  const clients = new LRUCache<string, ConfidentialClientApplication>({ max: options.maxClients })

  const clientFor = (tenantId: string): ConfidentialClientApplication => {
    let cca = clients.get(tenantId)
    if (cca === undefined) {
      const config: Configuration = {
        auth: { clientId: options.clientId, authority: `${base}/${tenantId}`, knownAuthorities: [host], authorityMetadata, ...auth },
        system: { networkClient, loggerOptions: msalLogger(options.logger) }
      }
      cca = new ConfidentialClientApplication(config)
      clients.set(tenantId, cca)
    }
    return cca
  }

  return {
    async acquire (tenantId, correlationId): Promise<AcquiredToken> {
      try {
        // skipCache: our own cache decides when to renew; msal's would hand back a token we consider stale.
        const result = await clientFor(tenantId).acquireTokenByClientCredential({ scopes: [options.scope], correlationId, skipCache: true })
        if (result === null || result.accessToken === '' || result.expiresOn === null) {
          throw new TokenError('invalid-response', `Entra ID returned no access token for tenant ${tenantId}`)
        }
        return { accessToken: result.accessToken, expiresOn: result.expiresOn.getTime() }
      } catch (err) {
        // A fresh client next time: msal otherwise locks the tenant out for Retry-After after a 429/5xx.
        clients.delete(tenantId)
        throw classify(err, tenantId)
      }
    },
    forget (tenantId) { clients.delete(tenantId) },
    close () { clients.clear(); networkClient.close() }
  }
}

function credentialAuth (credential: Credential): Partial<Configuration['auth']> {
  if (credential.kind === 'secret') return { clientSecret: credential.secret.reveal() }
  const cert = new X509Certificate(credential.certPem)
  return {
    clientCertificate: {
      thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
      privateKey: credential.privateKey.reveal(),
      x5c: credential.certPem
    }
  }
}

function msalLogger (logger: Logger): NonNullable<Configuration['system']>['loggerOptions'] {
  return {
    logLevel: LogLevel.Warning,
    piiLoggingEnabled: false,
    loggerCallback (level, message, containsPii) {
      // 'No client info' is expected for app-only tokens and would otherwise log on every acquisition.
      if (containsPii || message.includes('No client info')) return
      if (level === LogLevel.Error) logger.error({ msal: message }, 'msal error')
      else logger.warn({ msal: message }, 'msal warning')
    }
  }
}
