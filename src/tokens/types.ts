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
 * Contract: `get` returns a token valid for at least the skew; a cache hit does no I/O; concurrent
 * misses for one tenant share one acquisition; failures reject with TokenError.
 */
export interface TokenProvider {
  get (tenantId: string, requestId: string): Promise<TenantToken>
  /** drop a tenant's cached token (e.g. upstream answered 401 to it) */
  purge (tenantId: string): void
  close (): void
}

export type TokenFailure = 'not-onboarded' | 'bad-credential' | 'transient' | 'invalid-response'

/** Why a token could not be had; `message` is safe to show callers (no secrets, no tokens). */
export class TokenError extends Error {
  readonly kind: TokenFailure
  readonly aadsts: number | undefined
  constructor (kind: TokenFailure, message: string, aadsts?: number) {
    super(message)
    this.name = 'TokenError'
    this.kind = kind
    this.aadsts = aadsts
  }
}
