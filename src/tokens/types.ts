/** An app-only access token for one customer tenant, with the claims the gateway checks. */
export interface TenantToken {
  readonly accessToken: string
  /** epoch ms */
  readonly expiresOn: number
  /** `tid` claim, lowercase */
  readonly tid: string
  /** `roles` claim, lowercase (compared case-insensitively, reference §2.4) */
  readonly roles: ReadonlySet<string>
}

/** Raw result of one token request to Entra ID. */
export interface AcquiredToken {
  readonly accessToken: string
  readonly expiresOn: number
}

/** Where tokens come from (msal in production); separate from caching and from injection. */
export interface TokenSource {
  acquire (tenantId: string, correlationId: string): Promise<AcquiredToken>
  /** forget per-tenant client state (after a failure, or when the tenant falls out of the LRU) */
  forget (tenantId: string): void
  close (): void
}

/**
 * Contract: `get` returns a token valid for at least the skew; a cache hit does no I/O and never waits
 * for a refresh; concurrent misses for one tenant share one acquisition; tenants in use are renewed in
 * the background before the skew; while renewal fails the old token is served until the skew; after a
 * transient failure the tenant backs off and `get` fails fast unless a valid token exists; failures
 * reject with TokenError. With a SharedTokenStore, a miss or renewal first takes a newer valid token from
 * it, and replicas take a per-tenant lock so that one of them asks Entra ID; the store never fails a call.
 */
export interface TokenProvider {
  get (tenantId: string, requestId: string): Promise<TenantToken>
  /**
   * Acquires a new token now (joining an acquisition already under way) and replaces the cached one,
   * e.g. after upstream answered 401 to the cached token. Still refused fast while the tenant is in
   * backoff or remembered as not onboarded, so a 401 storm cannot hammer Entra ID.
   */
  refresh (tenantId: string, requestId: string): Promise<TenantToken>
  /** drop a tenant's cached token (e.g. upstream answered 401 to it) */
  purge (tenantId: string): void
  close (): void
}

export type TokenFailure = 'not-onboarded' | 'bad-credential' | 'transient' | 'invalid-response'

/** Why a token could not be had; `message` is safe to show callers (no secrets, no tokens). */
export class TokenError extends Error {
  readonly kind: TokenFailure
  readonly aadsts: number | undefined
  /** when the caller may try again (Entra's Retry-After, or what is left of the tenant's backoff) */
  readonly retryAfterSeconds: number | undefined
  constructor (kind: TokenFailure, message: string, aadsts?: number, retryAfterSeconds?: number) {
    super(message)
    this.name = 'TokenError'
    this.kind = kind
    this.aadsts = aadsts
    this.retryAfterSeconds = retryAfterSeconds
  }

  /** the same failure with another retry hint (errors are shared by every waiter, so never mutated) */
  withRetryAfter (seconds: number | undefined): TokenError {
    return new TokenError(this.kind, this.message, this.aadsts, seconds)
  }
}

/**
 * A second-level token cache shared by replicas (Redis), below the in-process cache. Implementations
 * must never throw: when the store is unreachable they answer `undefined` / `false` and the caller
 * carries on with local state.
 */
export interface SharedTokenStore {
  /** the shared token for a tenant, if any and not expired */
  get (tenantId: string): Promise<AcquiredToken | undefined>
  /** stores a token until `expiresOn - skewMs` */
  set (tenantId: string, token: AcquiredToken, skewMs: number): Promise<void>
  /** a short lock so that only one replica asks Entra for a tenant; true when this replica holds it */
  lock (tenantId: string, ttlMs: number): Promise<boolean>
  unlock (tenantId: string): Promise<void>
}
