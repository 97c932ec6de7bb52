import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Onboarding links and consent `state` values, signed with keys derived from `onboarding.signingKey`
 * (one label each, so a link's signature can never pass as a state's). Pure functions of (key, input,
 * now): no I/O, tested without a server.
 */
export interface OnboardingSigner {
  /** `?exp=...&sig=...` for a tenant's link, valid until `expiresAt` (epoch ms) */
  link (tenantId: string, expiresAt: number): { exp: string, sig: string }
  /** true when `sig` signs (tenant, exp) and exp is not past */
  linkValid (tenantId: string, exp: string, sig: string, now: number): boolean
  /** a fresh state for a consent round trip: tenant, nonce and expiry, signed */
  state (tenantId: string, expiresAt: number): string
  /** the state's content when its signature holds; otherwise why not (expiry is the caller's check) */
  readState (state: string): StateContent | 'malformed' | 'bad-signature'
}

/** What a signed state carries. */
export interface StateContent {
  readonly tenantId: string
  /** single use: the callback remembers nonces it accepted until they expire */
  readonly nonce: string
  readonly expiresAt: number
}

/** Builds a signer from the configured key material. */
export function createOnboardingSigner (key: string): OnboardingSigner {
  const linkKey = derive(key, 'defender-gateway onboarding link v1')
  const stateKey = derive(key, 'defender-gateway consent state v1')
  const mac = (k: Buffer, text: string): Buffer => createHmac('sha256', k).update(text, 'utf8').digest()
  const same = (given: string, expected: Buffer): boolean => {
    const raw = Buffer.from(given, 'base64url')
    return raw.length === expected.length && timingSafeEqual(raw, expected)
  }
  return {
    link (tenantId, expiresAt) {
      const exp = String(Math.floor(expiresAt / 1000))
      return { exp, sig: mac(linkKey, `${tenantId.toLowerCase()}|${exp}`).toString('base64url') }
    },
    linkValid (tenantId, exp, sig, now) {
      if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= now) return false
      return same(sig, mac(linkKey, `${tenantId.toLowerCase()}|${exp}`))
    },
    state (tenantId, expiresAt) {
      const body = Buffer.from(JSON.stringify({ t: tenantId.toLowerCase(), n: randomBytes(16).toString('base64url'), e: Math.floor(expiresAt) })).toString('base64url')
      return `${body}.${mac(stateKey, body).toString('base64url')}`
    },
    readState (state) {
      const parts = state.split('.')
      if (parts.length !== 2 || state.length > 512) return 'malformed'
      const [body, sig] = parts as [string, string]
      if (!same(sig, mac(stateKey, body))) return 'bad-signature'
      return parseState(body)
    }
  }
}

function parseState (body: string): StateContent | 'malformed' {
  try {
    const value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { t?: unknown, n?: unknown, e?: unknown }
    if (typeof value.t !== 'string' || typeof value.n !== 'string' || typeof value.e !== 'number') return 'malformed'
    return { tenantId: value.t, nonce: value.n, expiresAt: value.e }
  } catch {
    return 'malformed'
  }
}

function derive (key: string, label: string): Buffer {
  return createHmac('sha256', key).update(label, 'utf8').digest()
}
