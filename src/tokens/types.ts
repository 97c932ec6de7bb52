/** The claims of an access token as read, before anyone checked whose and for what it is. */
export interface TokenClaims {
  readonly accessToken: string
  /** epoch ms */
  readonly expiresOn: number
  /** `tid` claim, lowercase ('' when absent) */
  readonly tid: string
  /** `aud` claim as issued ('' when absent) */
  readonly aud: string
  /** `roles` claim, lowercase (compared case-insensitively, reference §2.4) */
  readonly roles: ReadonlySet<string>
}

declare const checked: unique symbol

/**
 * An app-only access token for one customer tenant that passed `checkToken` (its tenant, the configured
 * resource). Only check.ts makes one, so a token can be used, cached or published only after the check.
 */
export interface TenantToken extends TokenClaims {
  readonly [checked]: true
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
 * Every token it returns passed `checkToken` (tenant and resource); one that fails is purged from memory
 * and the store and the call rejects with a `wrong-token` TokenError.
 */
export interface TokenProvider {
  get (tenantId: string, requestId: string): Promise<TenantToken>
  /**
   * Acquires a new token now (joining an acquisition already under way) and replaces the cached one,
   * e.g. after upstream answered 401 to the cached token. At most one such re-acquisition per tenant per
   * cool-down window: every caller in the window shares its result (the token it cached, or its
   * failure), so a 401 storm or repeated forced refreshes cannot hammer Entra ID. Still refused fast
   * while the tenant is in backoff or remembered as not onboarded.
   */
  refresh (tenantId: string, requestId: string): Promise<TenantToken>
  /** drop a tenant's cached token (e.g. upstream answered 401 to it) */
  purge (tenantId: string): void
  /** ms until the tenant's next re-acquisition may ask Entra ID (0: now); callers before then share the last one */
  reacquireWaitMs (tenantId: string): number
  /** what the cache knows of a tenant now, without any I/O (status pages render hundreds of these) */
  status (tenantId: string): TokenStatus
  /**
   * forget that the tenant refused (not onboarded): its admin has just consented, so the next request
   * asks Entra ID instead of being refused from memory
   */
  forgetRefusal (tenantId: string): void
  close (): void
}

/** A tenant's token state as cached: never the token itself. */
export interface TokenStatus {
  /** the cached token's expiry (epoch ms) and roles, if one is cached and not past expiry */
  readonly token?: { readonly expiresOn: number, readonly roles: ReadonlySet<string>, readonly stale: boolean }
  /** the last failed acquisition since the last success */
  readonly lastError?: { readonly kind: TokenFailure, readonly message: string, readonly at: number }
  /** the tenant is refused from memory until this time (not onboarded) */
  readonly refusedUntil?: number
}

/** `wrong-token`: Entra ID (or the shared store) handed over a token of another tenant or resource */
export type TokenFailure = 'not-onboarded' | 'bad-credential' | 'transient' | 'invalid-response' | 'wrong-token'

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
  /** drops the tenant's shared token (it failed its check: no replica may take it again) */
  delete (tenantId: string): Promise<void>
}
