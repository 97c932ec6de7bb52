import { TokenError, type AcquiredToken, type TokenClaims } from './types.js'

/**
 * Reads `tid`, `aud` and `roles` from the token payload. No signature check: the token came from Entra
 * over TLS; these claims only let the gateway refuse early what Defender would refuse anyway, and
 * refuse what Defender would wrongly accept (another tenant's token opens that tenant's data).
 */
export function readClaims (acquired: AcquiredToken): TokenClaims {
  const payload = acquired.accessToken.split('.')[1]
  if (acquired.accessToken === '' || payload === undefined) {
    throw new TokenError('invalid-response', 'Entra ID returned an empty or malformed access token')
  }
  let claims: { tid?: unknown, aud?: unknown, roles?: unknown }
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    throw new TokenError('invalid-response', 'Entra ID returned an access token whose claims cannot be read')
  }
  if (typeof claims !== 'object' || claims === null) {
    throw new TokenError('invalid-response', 'Entra ID returned an access token whose claims cannot be read')
  }
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : []
  return {
    accessToken: acquired.accessToken,
    expiresOn: acquired.expiresOn,
    tid: typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '',
    aud: typeof claims.aud === 'string' ? claims.aud : '',
    roles: sharedRoles(roles)
  }
}

// Tenants granted the same roles share one set: at 10,000 tenants a set each was ~3 MB of heap.
const roleSets = new Map<string, ReadonlySet<string>>()
const MAX_ROLE_SETS = 1024

function sharedRoles (roles: readonly string[]): ReadonlySet<string> {
  const lower = roles.map((r) => r.toLowerCase()).sort()
  const key = lower.join(' ')
  let set = roleSets.get(key)
  if (set === undefined) {
    set = new Set(lower)
    // bounded: past the limit (unlikely: role sets repeat across tenants) new sets are simply not shared
    if (roleSets.size < MAX_ROLE_SETS) roleSets.set(key, set)
  }
  return set
}
