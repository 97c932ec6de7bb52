/** The claims of a gateway access token, shaped like Entra's so partner-guide checks (`tid`, `roles`) work. */
export interface GatewayClaims {
  readonly iss: string
  /** the resource the connector asked for, as it asked */
  readonly aud: string
  /** tenant id (lowercase GUID) the token is bound to */
  readonly tid: string
  /** the client's clientId (or name when it has none) */
  readonly appid: string
  readonly azp: string
  /** permissions at issuance: client ∩ tenant allowlist (re-checked against the config on every use) */
  readonly roles: readonly string[]
  /** fingerprint of the client's keySha256 at issuance */
  readonly kfp: string
  readonly iat: number
  readonly nbf: number
  readonly exp: number
  readonly jti: string
}

/**
 * The `tid` of a gateway token for fleet reads: Entra's multi-tenant `organizations`, so a connector
 * reads every tenant its client may read by putting it where its tenant id goes.
 */
export const FLEET_TENANT = 'organizations'

/** Audience values of one Defender API, compared case-insensitively without trailing slashes. */
export function normaliseResource (resource: string): string {
  return resource.trim().replace(/\/+$/, '').toLowerCase()
}
