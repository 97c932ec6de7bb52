import { TokenError, type AcquiredToken, type TenantToken } from './types.js'

/**
 * Reads `tid` and `roles` from the token payload. No signature check: the token came from Entra over
 * TLS; these claims only let the gateway refuse early what Defender would refuse anyway.
 */
export function withClaims (acquired: AcquiredToken): TenantToken {
  const payload = acquired.accessToken.split('.')[1]
  if (acquired.accessToken === '' || payload === undefined) {
    throw new TokenError('invalid-response', 'Entra ID returned an empty or malformed access token')
  }
  let claims: { tid?: unknown, roles?: unknown }
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    throw new TokenError('invalid-response', 'Entra ID returned an access token whose claims cannot be read')
  }
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : []
  return {
    accessToken: acquired.accessToken,
    expiresOn: acquired.expiresOn,
    tid: typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '',
    roles: new Set(roles.map((r) => r.toLowerCase()))
  }
}
