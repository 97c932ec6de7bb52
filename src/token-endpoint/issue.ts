import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { ClientEntry } from '../callers/authenticate.js'
import { keyFingerprint, type KeyRing } from '../gateway-tokens/keys.js'
import type { EndpointVersion } from './grant.js'

/** What one issued token says; the audit line shows all of it but the token. */
export interface Issuance {
  readonly client: ClientEntry
  readonly tenantId: string
  readonly resource: string
  readonly roles: readonly string[]
}

export interface IssueOptions {
  readonly ring: KeyRing
  readonly issuer: string
  readonly lifetimeSeconds: number
}

/** A signed gateway access token with Entra's claim names (`tid`, `appid`, `azp`, `roles`). */
export async function signToken (grant: Issuance, options: IssueOptions, nowMs: number): Promise<{ token: string, jti: string, iat: number, exp: number }> {
  const iat = Math.floor(nowMs / 1000)
  const exp = iat + options.lifetimeSeconds
  const jti = randomUUID()
  const appid = grant.client.clientId ?? grant.client.name
  const key = options.ring.signing
  const token = await new SignJWT({
    tid: grant.tenantId,
    appid,
    azp: appid,
    roles: [...grant.roles],
    kfp: keyFingerprint(key, grant.client.keySha256)
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid })
    .setIssuer(options.issuer)
    .setAudience(grant.resource)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.bytes)
  return { token, jti, iat, exp }
}

/**
 * The success body as Entra writes it: v2 with numbers; v1 with every number as a string plus
 * `expires_on`, `not_before` and the `resource` echoed (entra-token-endpoint.md §2.1).
 */
export function tokenResponse (version: EndpointVersion, issued: { token: string, iat: number, exp: number }, resource: string): Record<string, unknown> {
  const life = issued.exp - issued.iat
  if (version === 'v2') {
    return { token_type: 'Bearer', expires_in: life, ext_expires_in: life, access_token: issued.token }
  }
  return {
    token_type: 'Bearer',
    expires_in: String(life),
    ext_expires_in: String(life),
    expires_on: String(issued.exp),
    not_before: String(issued.iat),
    resource,
    access_token: issued.token
  }
}
