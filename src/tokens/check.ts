import { readClaims } from './claims.js'
import { TokenError, type AcquiredToken, type TenantToken } from './types.js'

/** What every token is checked against: the tenant it was asked for and the configured Defender resource. */
export interface TokenExpectation {
  /** the tenant id the gateway asked for (a GUID, compared case-insensitively) */
  readonly tenantId: string
  /** the resource the scope names (`identity.resource` or the cloud's), e.g. https://api.securitycenter.microsoft.com */
  readonly resource: string
  /** other exact `aud` values naming the same resource (Graph's app id for Graph tokens) */
  readonly audienceAliases?: readonly string[]
}

// Claims are untrusted text: only this much of them reaches a log line.
const MAX_CLAIM = 200

/** Where a token came from: Entra ID's answer, or the replicas' shared store (Redis). */
export type TokenOrigin = 'entra' | 'shared'

/** Why a token was refused: both tenant ids and the audience, for the operator (never the token). */
export interface MismatchDetails {
  /** the tenant the gateway asked for */
  readonly tenantId: string
  readonly reason: 'tenant' | 'audience'
  /** the token's `tid` ('' when it had none) */
  readonly tokenTenant: string
  /** the token's `aud` ('' when it had none) */
  readonly audience: string
  readonly origin: TokenOrigin
}

/**
 * A token that belongs to another tenant or was issued for another resource. Its message, which callers
 * see, names neither the other tenant nor the token; `details` are for the operator's log line.
 */
export class TokenMismatch extends TokenError {
  readonly details: MismatchDetails

  constructor (details: MismatchDetails, retryAfterSeconds?: number) {
    const from = details.origin === 'entra' ? 'Entra ID returned' : 'the shared token store held'
    const what = details.reason === 'tenant' ? 'belongs to another tenant' : 'was issued for another resource'
    super('wrong-token', `${from} a token for tenant ${details.tenantId} that ${what}; it was discarded and nothing was forwarded`, undefined, retryAfterSeconds)
    this.name = 'TokenMismatch'
    this.details = details
  }

  // The tenant's backoff adds a retry hint; the details must survive it.
  override withRetryAfter (seconds: number | undefined): TokenError {
    return new TokenMismatch(this.details, seconds)
  }
}

/**
 * The one check every token passes before it is used, cached or published: `tid` is the tenant asked
 * for and `aud` is the configured resource. Throws TokenMismatch (or invalid-response for a token whose
 * claims cannot be read); returns the only kind of token the rest of the gateway accepts.
 */
export function checkToken (acquired: AcquiredToken, expected: TokenExpectation, origin: TokenOrigin): TenantToken {
  const claims = readClaims(acquired)
  const tenantId = expected.tenantId.toLowerCase()
  const refuse = (reason: MismatchDetails['reason']): TokenMismatch =>
    new TokenMismatch({ tenantId, reason, tokenTenant: claims.tid.slice(0, MAX_CLAIM), audience: claims.aud.slice(0, MAX_CLAIM), origin })
  if (claims.tid !== tenantId) throw refuse('tenant')
  if (!sameResource(claims.aud, expected.resource) && expected.audienceAliases?.includes(claims.aud) !== true) throw refuse('audience')
  return claims as TenantToken
}

/**
 * Whether an `aud` names the resource. Entra issues the resource as requested; the only equivalent
 * spelling documented is the same URI with or without one trailing slash (reference §2.1-2.2: the v1
 * `resource=https://api.securitycenter.windows.com/`). No case folding, no URL normalisation: another
 * app's URI (api.security.microsoft.com, userrequestsgraphapi-prd...) or a look-alike is refused.
 */
export function sameResource (aud: string, resource: string): boolean {
  const bare = resource.replace(/\/$/, '')
  return bare !== '' && (aud === bare || aud === `${bare}/`)
}
