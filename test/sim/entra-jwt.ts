import { generateKeyPairSync, sign, randomBytes, createHash } from 'node:crypto'
import type { KeyObject, JsonWebKey } from 'node:crypto'
import { base64url, uuid } from './http-util.js'

/** The RS256 key the simulated Entra signs access tokens with. */
export interface SigningKey { kid: string, privateKey: KeyObject, publicKeyPem: string, jwk: JsonWebKey }

/** Generates a fresh RSA 2048 signing key with a random kid. */
export function createSigningKey (): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = base64url(randomBytes(20))
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }
  return { kid, privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), jwk }
}

/** Stable fake object id for (client, tenant), like the service principal's oid. */
export function stableOid (clientId: string, tenant: string): string {
  const h = createHash('sha256').update(`${clientId}|${tenant}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export interface TokenClaimsInput {
  key: SigningKey
  audience: string
  tenant: string
  clientId: string
  roles: string[]
  lifetimeSec: number
  viaAssertion: boolean
}

/** Builds and signs a v1-style app-only access token like Entra issues for WindowsDefenderATP. */
export function signAccessToken (input: TokenClaimsInput): string {
  const iat = Math.floor(Date.now() / 1000)
  const oid = stableOid(input.clientId, input.tenant)
  const claims: Record<string, unknown> = {
    aud: input.audience,
    iss: `https://sts.windows.net/${input.tenant}/`,
    iat,
    nbf: iat,
    exp: iat + input.lifetimeSec,
    appid: input.clientId,
    appidacr: input.viaAssertion ? '2' : '1',
    idp: `https://sts.windows.net/${input.tenant}/`,
    oid,
    sub: oid,
    tid: input.tenant,
    uti: base64url(randomBytes(16)),
    jti: uuid(),
    ver: '1.0'
  }
  // Entra leaves the roles claim out entirely when no app role is granted.
  if (input.roles.length > 0) claims.roles = input.roles
  const header = { alg: 'RS256', typ: 'JWT', kid: input.key.kid, x5t: input.key.kid }
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  const signature = sign('sha256', Buffer.from(signingInput), input.key.privateKey)
  return `${signingInput}.${base64url(signature)}`
}

/** Decodes a JWT's payload without checking its signature; undefined when malformed. */
export function decodeJwtPayload (token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || parts.some(p => !/^[A-Za-z0-9_-]*$/.test(p)) || parts[0] === '' || parts[1] === '') return undefined
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'))
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
    if (typeof header !== 'object' || header === null) return undefined
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined
    return payload as Record<string, unknown>
  } catch {
    return undefined
  }
}
