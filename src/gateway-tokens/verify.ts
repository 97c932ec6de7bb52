import { errors, jwtVerify } from 'jose'
import type { GatewayClaims } from './claims.js'
import { FLEET_TENANT, normaliseResource } from './claims.js'
import type { KeyRing, SigningKey } from './keys.js'

/** Why a presented gateway token was refused: a bounded set, used as a metric label. */
export type BearerRejection =
  | 'malformed' | 'signature' | 'algorithm' | 'unknown_key' | 'expired' | 'not_yet_valid'
  | 'issuer' | 'audience' | 'client_removed' | 'key_changed'

export type TokenCheck =
  | { readonly ok: true, readonly claims: GatewayClaims, readonly key: SigningKey }
  | { readonly ok: false, readonly reason: BearerRejection }

export interface VerifyOptions {
  readonly ring: KeyRing
  readonly issuer: string
  /** normalised resources a token may be for (acceptedResources) */
  readonly audiences: ReadonlySet<string>
  /** those of `audiences` that name Microsoft Graph (graphAudiences): such tokens open Graph routes only */
  readonly graphAudiences?: ReadonlySet<string>
  /** ms since the epoch; injectable so expiry tests need no waiting */
  now (): number
}

/**
 * Checks signature (HS256 only, key chosen by `kid` from the ring), `exp`, `nbf`, `iss` and `aud`, and
 * that every claim the gateway relies on has the right type. Never throws.
 */
export async function verifyGatewayToken (token: string, options: VerifyOptions): Promise<TokenCheck> {
  let key: SigningKey | undefined
  try {
    const { payload } = await jwtVerify(token, function pickKey (header) {
      key = options.ring.byKid(header.kid)
      if (key === undefined) throw new UnknownKey()
      return key.bytes
    }, {
      algorithms: ['HS256'],
      issuer: options.issuer,
      currentDate: new Date(options.now()),
      requiredClaims: ['exp', 'nbf', 'iat', 'jti', 'aud']
    })
    const claims = asClaims(payload)
    if (claims === undefined || key === undefined) return { ok: false, reason: 'malformed' }
    if (!options.audiences.has(normaliseResource(claims.aud))) return { ok: false, reason: 'audience' }
    return { ok: true, claims, key }
  } catch (err) {
    return { ok: false, reason: rejectionOf(err) }
  }
}

class UnknownKey extends Error {}

function rejectionOf (err: unknown): BearerRejection {
  if (err instanceof UnknownKey) return 'unknown_key'
  if (err instanceof errors.JWTExpired) return 'expired'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'issuer'
    if (err.claim === 'nbf') return 'not_yet_valid'
  }
  return 'malformed'
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function asClaims (p: Record<string, unknown>): GatewayClaims | undefined {
  const strings = ['iss', 'aud', 'tid', 'appid', 'azp', 'kfp', 'jti'] as const
  if (!strings.every((k) => typeof p[k] === 'string')) return undefined
  if (!GUID.test(p.tid as string) && p.tid !== FLEET_TENANT) return undefined
  if (!Array.isArray(p.roles) || !p.roles.every((r) => typeof r === 'string')) return undefined
  return p as unknown as GatewayClaims
}
