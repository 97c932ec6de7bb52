import { ConfidentialClientApplication, LogLevel, type Configuration, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node'
import type { Logger } from 'pino'
import { parseRetryAfter } from './backoff.js'
import { classify } from './classify.js'
import { credentialAuth, type Credential } from './credentials.js'
import { createNetworkClient } from './network-client.js'
import { TokenError, type AcquiredToken, type TokenSource } from './types.js'

export type { Credential } from './credentials.js'

export interface MsalSourceOptions {
  readonly clientId: string
  /** e.g. https://login.microsoftonline.com (no tenant) */
  readonly authorityHost: string
  readonly scope: string
  /** tried in order (new first during a rotation); the next one only after a bad-credential answer */
  readonly credentials: readonly Credential[]
  readonly caPem?: string
  readonly timeoutMs: number
  readonly logger: Logger
  /** a credential Entra rejected is tried last for this long (it is app-wide, not per tenant) */
  readonly rejectedTtlMs?: number
  readonly now?: () => number
  onCredentialRejected? (name: string): void
}

/** One msal client and what the last answer of its token endpoint (or the socket) said. */
interface Client {
  readonly cca: ConfidentialClientApplication
  readonly seen: { retryAfter?: string, status?: number, failure?: string }
}

/**
 * Tokens from Entra ID through msal-node, with fallback between credentials during a rotation. Each
 * acquisition gets its own short-lived ConfidentialClientApplication for (tenant, credential): msal's
 * shared cache is O(n) per hit (reference/msal-node.md), our own cache decides renewals (so a kept
 * client would hold nothing we read), a fresh client has no 60 s lock-out left from a 429/5xx, and
 * 10,000 kept clients cost about 8 KB each. Tenants are renewed every ~45 min, so building one is rare.
 */
export function createMsalTokenSource (options: MsalSourceOptions): TokenSource {
  if (options.credentials.length === 0) throw new Error('identity needs at least one credential')
  const now = options.now ?? Date.now
  const shared = createNetworkClient({ caPem: options.caPem, timeoutMs: options.timeoutMs })
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
  const auths = options.credentials.map(credentialAuth)
  const rejectedUntil = options.credentials.map(() => 0)
  const loggerOptions = msalLogger(options.logger)

  const newClient = (index: number, tenantId: string): Client => {
    const seen: Client['seen'] = { retryAfter: undefined }
    // msal's errors drop the response headers and the socket's error: this wrapper keeps Retry-After for
    // the tenant's backoff, and the status or network error for the message (which host failed, and why).
    const networkClient: INetworkModule = {
      sendGetRequestAsync: shared.sendGetRequestAsync,
      async sendPostRequestAsync<T> (url: string, opts?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
        const response = await shared.sendPostRequestAsync<T>(url, opts).catch((err: unknown) => {
          seen.failure = err instanceof Error ? err.message : String(err)
          throw err
        })
        seen.retryAfter = response.headers['retry-after']
        seen.status = response.status
        return response
      }
    }
    const config: Configuration = {
      auth: { clientId: options.clientId, authority: `${base}/${tenantId}`, knownAuthorities: [host], authorityMetadata, ...auths[index] },
      system: { networkClient, loggerOptions }
    }
    return { cca: new ConfidentialClientApplication(config), seen }
  }

  const acquireWith = async (index: number, tenantId: string, correlationId: string): Promise<AcquiredToken> => {
    const client = newClient(index, tenantId)
    try {
      // skipCache: our own cache decides when to renew; msal's would hand back a token we consider stale.
      const result = await client.cca.acquireTokenByClientCredential({ scopes: [options.scope], correlationId, skipCache: true })
      if (result === null || result.accessToken === '' || result.expiresOn === null) {
        throw new TokenError('invalid-response', `Entra ID returned no access token for tenant ${tenantId}`)
      }
      return { accessToken: result.accessToken, expiresOn: result.expiresOn.getTime() }
    } catch (err) {
      const error = classify(err, tenantId, { host, ...client.seen })
      const retryAfter = parseRetryAfter(client.seen.retryAfter, now())
      throw retryAfter === undefined ? error : error.withRetryAfter(retryAfter)
    }
  }

  /** Credentials Entra has not rejected lately first, each group in configured order. */
  const order = (): number[] => {
    const at = now()
    const all = options.credentials.map((_c, i) => i)
    return [...all.filter((i) => rejectedUntil[i]! <= at), ...all.filter((i) => rejectedUntil[i]! > at)]
  }

  return {
    async acquire (tenantId, correlationId): Promise<AcquiredToken> {
      const tries = order()
      let last = new TokenError('bad-credential', 'no app credential to try')
      for (const [n, index] of tries.entries()) {
        try {
          return await acquireWith(index, tenantId, correlationId)
        } catch (err) {
          const error = err as TokenError
          if (error.kind !== 'bad-credential') throw error
          const name = options.credentials[index]!.name
          rejectedUntil[index] = now() + (options.rejectedTtlMs ?? 300_000)
          options.onCredentialRejected?.(name)
          last = error
          const next = tries[n + 1]
          if (next !== undefined) options.logger.warn({ credential: name, fallback: options.credentials[next]!.name, reason: error.message }, 'Entra ID rejected a credential; trying the next one')
        }
      }
      // Every credential was rejected: the last answer says why.
      throw last
    },
    // Nothing per tenant is kept between acquisitions.
    forget () {},
    close () { shared.close() }
  }
}

/** msal's log lines, Warning and up, into pino; lines msal marks as carrying personal data are dropped. */
export function msalLogger (logger: Logger): NonNullable<Configuration['system']>['loggerOptions'] {
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
