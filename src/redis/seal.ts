import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const IV_BYTES = 12
const TAG_BYTES = 16
const VERSION = 'v1'

/** A 256-bit AES key derived from the configured key material (HKDF-SHA256, fixed context). */
export function deriveKey (material: string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, 'defender-gateway', 'token-store aes-256-gcm v1', 32))
}

/**
 * AES-256-GCM with a random IV; `context` (the tenant id) is authenticated, so a value copied to
 * another tenant's key does not open. Output: 'v1.' + base64url(iv | tag | ciphertext).
 */
export function seal (key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(context, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`
}

/** The plaintext, or undefined when the value is not ours, was tampered with or used another key. */
export function unseal (key: Buffer, sealed: string, context: string): string | undefined {
  if (!sealed.startsWith(`${VERSION}.`)) return undefined
  const raw = Buffer.from(sealed.slice(VERSION.length + 1), 'base64url')
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES))
    decipher.setAAD(Buffer.from(context, 'utf8'))
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
