import { createPublicKey, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** The claims the Defender simulator relies on, taken from a verified token. */
export interface VerifiedToken { tenant: string, roles: string[], appId: string, claims: Record<string, unknown> }

export type VerifyResult = { ok: true, token: VerifiedToken } | { ok: false, reason: string }

function parseJson (part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** Builds a verifier for RS256 bearer tokens signed by the simulated Entra for one audience. */
export function createVerifier (publicKeyPem: string, audience: string): (authorization: string | undefined) => VerifyResult {
  const key: KeyObject = createPublicKey(publicKeyPem)
  const bareAudience = audience.replace(/\/+$/, '')
  return function verifyBearer (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (m === null) return { ok: false, reason: 'Authorization header is missing or is not a Bearer token' }
    const parts = m[1]!.split('.')
    if (parts.length !== 3) return { ok: false, reason: 'Access token is malformed' }
    const header = parseJson(parts[0]!)
    const claims = parseJson(parts[1]!)
    if (header === undefined || claims === undefined) return { ok: false, reason: 'Access token is malformed' }
    if (header.alg !== 'RS256') return { ok: false, reason: `Unsupported token algorithm '${String(header.alg)}'` }
    const signed = verify('sha256', Buffer.from(`${parts[0]!}.${parts[1]!}`), key, Buffer.from(parts[2]!, 'base64url'))
    if (!signed) return { ok: false, reason: 'Access token signature is invalid' }
    const aud = typeof claims.aud === 'string' ? claims.aud.replace(/\/$/, '') : ''
    if (aud !== bareAudience) return { ok: false, reason: `Access token audience '${String(claims.aud)}' is not accepted` }
    const now = Date.now() / 1000
    if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false, reason: 'Access token has expired' }
    if (typeof claims.nbf === 'number' && claims.nbf > now + 300) return { ok: false, reason: 'Access token is not valid yet' }
    if (typeof claims.tid !== 'string' || claims.tid === '') return { ok: false, reason: 'Access token has no tenant' }
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : []
    const appId = typeof claims.appid === 'string' ? claims.appid : String(claims.azp ?? '')
    return { ok: true, token: { tenant: claims.tid.toLowerCase(), roles, appId, claims } }
  }
}
