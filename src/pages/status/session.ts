import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { LRUCache } from 'lru-cache'

/** The status pages' sign-in: the admin token once, then a signed, expiring session cookie. */
export interface StatusSessions {
  /** the HMAC key @fastify/cookie signs the session and CSRF cookies with (derived from the admin token) */
  readonly cookieSecret: string
  /** true when `given` is the admin token (constant time) */
  tokenMatches (given: string): boolean
  /** a new session's cookie value (signed by the cookie plugin) and its lifetime in seconds */
  open (): { value: string, maxAgeSeconds: number }
  /** true while a session value (already unsigned) is unexpired and not signed out */
  valid (value: string): boolean
  /** signs a session out on this process before its expiry */
  close (value: string): void
}

/** The session cookie's name: `__Host-`-style prefixes need Secure, which a plain-HTTP admin listener lacks. */
export const SESSION_COOKIE = 'dgw_status'

/**
 * Sessions are stateless (`id.expiry`, signed) so any replica's admin listener accepts them; rotating
 * the admin token invalidates every session. Sign-out is remembered in memory until the expiry.
 */
export function createStatusSessions (adminToken: string, minutes: number, now: () => number = Date.now): StatusSessions {
  const expected = digest(adminToken)
  const closed = new LRUCache<string, true>({ max: 10_000, ttl: minutes * 60_000 })
  return {
    cookieSecret: createHmac('sha256', adminToken).update('defender-gateway status session v1').digest('base64url'),
    tokenMatches: (given) => timingSafeEqual(digest(given), expected),
    open () {
      const expiry = Math.floor((now() + minutes * 60_000) / 1000)
      return { value: `${randomBytes(16).toString('base64url')}.${expiry}`, maxAgeSeconds: minutes * 60 }
    },
    valid (value) {
      const m = /^([A-Za-z0-9_-]{22})\.(\d{1,12})$/.exec(value)
      if (m === null || closed.has(m[1] as string)) return false
      return Number(m[2]) * 1000 > now()
    },
    close (value) {
      const id = value.split('.')[0]
      if (id !== undefined && id !== '') closed.set(id, true)
    }
  }
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
