import { createHmac } from 'node:crypto'
import type { Secret } from '../config/secret.js'

/** One HS256 key with its public id; the key bytes stay inside. */
export interface SigningKey {
  /** `kid` header: an HMAC of a fixed label, so it names the key without revealing anything of it */
  readonly kid: string
  readonly bytes: Uint8Array
}

/** The signing key first, then the older keys still accepted, as read from `oauth.*`. */
export interface KeyRing {
  readonly signing: SigningKey
  readonly all: readonly SigningKey[]
  byKid (kid: string | undefined): SigningKey | undefined
}

/** Builds the key ring at start and on each reload (the key files are read again with the config). */
export function createKeyRing (secrets: readonly Secret[]): KeyRing {
  const all = secrets.map((s) => {
    const bytes = new Uint8Array(Buffer.from(s.reveal(), 'utf8'))
    return { kid: mac(bytes, 'kid').subarray(0, 12).toString('base64url'), bytes }
  })
  const signing = all[0]
  if (signing === undefined) throw new Error('oauth: no signing key')
  const byKid = new Map(all.map((k) => [k.kid, k]))
  return { signing, all, byKid: (kid) => (kid === undefined ? undefined : byKid.get(kid)) }
}

/**
 * `kfp` claim: binds a token to the client's key (keySha256) at issuance. A keyed MAC, not the hash
 * itself, so a token never carries material that helps guess the client's secret.
 */
export function keyFingerprint (key: SigningKey, keySha256: string): string {
  return mac(key.bytes, `kfp:${keySha256.toLowerCase()}`).subarray(0, 16).toString('base64url')
}

function mac (key: Uint8Array, label: string): Buffer {
  return createHmac('sha256', key).update(label).digest()
}
