import type { BackoffPolicy } from './backoff.js'
import type { MismatchDetails } from './check.js'
import type { RefreshPolicy, Schedule } from './refresh.js'
import type { SharedWait } from './shared-acquire.js'
import type { SharedTokenStore, TokenFailure, TokenSource } from './types.js'

/** What the provider reports, so metrics and logs stay outside the token logic. */
export interface TokenEvents {
  hit (): void
  /** `background`: a refresh-ahead, not a request, asked */
  acquired (tenantId: string, seconds: number, background: boolean): void
  failed (tenantId: string, kind: TokenFailure, seconds: number, message: string, background: boolean): void
  /** a request was served the old, still valid token while its renewal keeps failing */
  servedStale? (tenantId: string): void
  /** a request failed fast because the tenant is backing off */
  backedOff? (tenantId: string, kind: TokenFailure): void
  /** a renewal was skipped because nobody used the tenant since its last token */
  idle? (tenantId: string): void
  /** a token came from the replicas' shared store (another replica asked Entra ID for it) */
  shared? (tenantId: string, background: boolean): void
  /** a token failed its check (another tenant's, or another resource's) and was purged */
  mismatch? (details: MismatchDetails, background: boolean): void
  /** a re-acquisition asked Entra ID (`started`) or shared the tenant's open cool-down window (`shared`) */
  reacquire? (tenantId: string, outcome: 'started' | 'shared'): void
}

export interface TokenProviderOptions {
  readonly source: TokenSource
  /** the Defender resource every token must be issued for (the scope without `/.default`) */
  readonly resource: string
  /** other exact `aud` values of that resource (Graph's app id) */
  readonly audienceAliases?: readonly string[]
  /** at most one re-acquisition (401 replacement, forced refresh) per tenant this often; 0: single-flight only */
  readonly reacquireCooldownMs?: number
  /** a token is used until expiresOn minus this */
  readonly skewMs: number
  readonly maxTenants: number
  /** how long a "not onboarded" answer is remembered, so Entra is not asked on every request */
  readonly negativeTtlMs?: number
  readonly backoff?: BackoffPolicy
  /** false turns refresh-ahead off (every renewal then happens on a request) */
  readonly refresh?: RefreshPolicy | false
  readonly events?: TokenEvents
  /** tokens shared by replicas (Redis), below this provider's own cache */
  readonly shared?: SharedTokenStore | undefined
  /** how a replica waits for another's token request (tests shorten it) */
  readonly sharedWait?: SharedWait
  readonly now?: () => number
  readonly random?: () => number
  readonly schedule?: Schedule
}
