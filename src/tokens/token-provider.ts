import { LRUCache } from 'lru-cache'
import { withClaims } from './claims.js'
import { classify } from './classify.js'
import { TokenError, type TenantToken, type TokenProvider, type TokenSource, type TokenFailure } from './types.js'

/** What the provider reports, so metrics and logs stay outside the token logic. */
export interface TokenEvents {
  hit (): void
  acquired (tenantId: string, seconds: number): void
  failed (tenantId: string, kind: TokenFailure, seconds: number, message: string): void
}

export interface TokenProviderOptions {
  readonly source: TokenSource
  /** a token is used until expiresOn minus this */
  readonly skewMs: number
  readonly maxTenants: number
  /** how long a "not onboarded" answer is remembered, so Entra is not asked on every request */
  readonly negativeTtlMs?: number
  readonly events?: TokenEvents
  readonly now?: () => number
}

const NO_EVENTS: TokenEvents = { hit () {}, acquired () {}, failed () {} }

/**
 * The gateway's own token cache in front of msal: per-tenant LRU, single-flight acquisition, and a
 * short memory of tenants that have not consented.
 */
export function createTokenProvider (options: TokenProviderOptions): TokenProvider {
  const now = options.now ?? Date.now
  const events = options.events ?? NO_EVENTS
  const tokens = new LRUCache<string, TenantToken>({ max: options.maxTenants })
  const refusals = new LRUCache<string, TokenError>({ max: options.maxTenants, ttl: options.negativeTtlMs ?? 30_000, ttlResolution: 0, perf: { now } })
  const flights = new Map<string, Promise<TenantToken>>()

  const acquire = async (tenantId: string, requestId: string): Promise<TenantToken> => {
    const started = now()
    try {
      const token = withClaims(await options.source.acquire(tenantId, requestId))
      tokens.set(tenantId, token)
      events.acquired(tenantId, (now() - started) / 1000)
      return token
    } catch (err) {
      const error = classify(err, tenantId)
      if (error.kind === 'not-onboarded') refusals.set(tenantId, error)
      events.failed(tenantId, error.kind, (now() - started) / 1000, error.message)
      throw error
    } finally {
      flights.delete(tenantId)
    }
  }

  return {
    get (tenantId, requestId) {
      const cached = tokens.get(tenantId)
      if (cached !== undefined && cached.expiresOn - options.skewMs > now()) {
        events.hit()
        return Promise.resolve(cached)
      }
      const refused = refusals.get(tenantId)
      if (refused !== undefined) return Promise.reject(refused)
      let flight = flights.get(tenantId)
      if (flight === undefined) {
        flight = acquire(tenantId, requestId)
        flights.set(tenantId, flight)
      }
      return flight
    },
    purge (tenantId) {
      tokens.delete(tenantId)
    },
    close () {
      tokens.clear()
      options.source.close()
    }
  }
}
