import { hash } from 'node:crypto'

/** A configured API caller, as the rest of the gateway sees it. */
export interface Client {
  readonly name: string
  /** lowercase tenant ids, or '*' */
  readonly tenants: ReadonlySet<string>
  /** canonical permission names */
  readonly permissions: ReadonlySet<string>
  /** set when the caller presented a gateway access token: the one tenant it is bound to */
  readonly tokenTenant?: string
  /** with a gateway token: the API it was issued for; it opens that API's routes only */
  readonly tokenApi?: 'defender' | 'graph'
}

export interface ClientEntry {
  readonly name: string
  readonly clientId?: string
  readonly keySha256: string
  readonly tenants: readonly string[]
  readonly permissions: readonly string[]
}

/** Key check: the config holds only hashes, so a leaked config file never leaks a key. */
export type Authenticator = (headers: Readonly<Record<string, string | string[] | undefined>>) => Client | undefined

const MAX_KEY_LENGTH = 512

/** Hex SHA-256 of an API key, the form stored in config (`keySha256`). */
export function keyHash (key: string): string {
  // one-shot hash: no Hash object per request (the key check runs on every call)
  return hash('sha256', key, 'hex')
}

/** The presented key from `X-API-Key` or `Authorization: Bearer`, or undefined when absent/malformed. */
export function presentedKey (headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const apiKey = headers['x-api-key']
  if (typeof apiKey === 'string') return usable(apiKey.trim())
  const auth = headers.authorization
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
    return usable(auth.slice(7).trim())
  }
  return undefined
}

/** Verifies a gateway-issued access token (src/gateway-tokens); async because JOSE verification is. */
export type TokenAuthenticator = (token: string) => Promise<Client | undefined>

const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
const MAX_TOKEN_LENGTH = 8192

/** A Bearer value shaped like a JWT (a gateway token candidate), or undefined. */
export function presentedJwt (headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const auth = headers.authorization
  if (typeof auth !== 'string' || auth.length > MAX_TOKEN_LENGTH || auth.slice(0, 7).toLowerCase() !== 'bearer ') return undefined
  const token = auth.slice(7).trim()
  return JWT_SHAPE.test(token) ? token : undefined
}

function usable (key: string): string | undefined {
  return key.length > 0 && key.length <= MAX_KEY_LENGTH ? key : undefined
}

/**
 * Builds the key check. Lookup is by the hash of the presented key, so timing reveals nothing about
 * stored keys: an attacker controls only the input to SHA-256.
 */
export function createAuthenticator (entries: readonly ClientEntry[]): Authenticator {
  const byHash = new Map<string, Client>()
  for (const e of entries) {
    byHash.set(e.keySha256.toLowerCase(), {
      name: e.name,
      tenants: new Set(e.tenants),
      permissions: new Set(e.permissions)
    })
  }
  return function authenticate (headers) {
    const key = presentedKey(headers)
    return key === undefined ? undefined : byHash.get(keyHash(key))
  }
}
