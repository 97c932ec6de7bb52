import { randomBytes } from 'node:crypto'
import type { AcquiredToken, SharedTokenStore } from '../tokens/types.js'
import type { SharedRedis } from './connection.js'
import { tokenKeys } from './keys.js'
import { deriveKey, seal, unseal } from './seal.js'

export interface RedisTokenStoreOptions {
  readonly redis: SharedRedis
  /** key material from redis.tokenKey */
  readonly keyMaterial: string
  /** epoch ms (token expiry is wall-clock time) */
  readonly now?: () => number
}

// Deletes the lock only if it is still ours: an expired lock may already belong to another replica.
const UNLOCK = 'if redis.call(\'GET\', KEYS[1]) == ARGV[1] then return redis.call(\'DEL\', KEYS[1]) end return 0'

/**
 * Tokens shared by replicas, encrypted at rest (AES-256-GCM, tenant id authenticated), expiring with
 * the token minus the skew. Never throws: without Redis it answers "nothing shared" and "lock is yours".
 */
export function createRedisTokenStore (options: RedisTokenStoreOptions): SharedTokenStore {
  const { redis } = options
  const key = deriveKey(options.keyMaterial)
  const now = options.now ?? Date.now
  const held = new Map<string, string>()
  const tokenKey = (tenantId: string): string => tokenKeys(redis.prefix, tenantId).value
  const lockKey = (tenantId: string): string => tokenKeys(redis.prefix, tenantId).lock

  return {
    async get (tenantId) {
      const sealed = await redis.guard('token_get', async () => await redis.client.get(tokenKey(tenantId)), () => null)
      if (sealed === null) return undefined
      return parseToken(unseal(key, sealed, tenantId), now())
    },
    async set (tenantId, token, skewMs) {
      const ttl = Math.floor(token.expiresOn - skewMs - now())
      if (ttl <= 0) return
      const value = seal(key, JSON.stringify({ accessToken: token.accessToken, expiresOn: token.expiresOn }), tenantId)
      await redis.guard('token_set', async () => { await redis.client.set(tokenKey(tenantId), value, 'PX', ttl) }, () => {})
    },
    async lock (tenantId, ttlMs) {
      const owner = randomBytes(16).toString('hex')
      const got = await redis.guard('lock', async () => {
        return await redis.client.set(lockKey(tenantId), owner, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX') === 'OK'
      }, () => true)
      if (got) held.set(tenantId, owner)
      return got
    },
    async unlock (tenantId) {
      const owner = held.get(tenantId)
      if (owner === undefined) return
      held.delete(tenantId)
      await redis.guard('unlock', async () => { await redis.client.eval(UNLOCK, 1, lockKey(tenantId), owner) }, () => {})
    },
    async delete (tenantId) {
      // Counted with the token writes: it is one, of the same key.
      await redis.guard('token_set', async () => { await redis.client.del(tokenKey(tenantId)) }, () => {})
    }
  }
}

/** A stored token if it decrypts, has the expected shape and has not expired. */
function parseToken (plaintext: string | undefined, now: number): AcquiredToken | undefined {
  if (plaintext === undefined) return undefined
  try {
    const value = JSON.parse(plaintext) as Partial<AcquiredToken>
    if (typeof value.accessToken !== 'string' || typeof value.expiresOn !== 'number' || value.expiresOn <= now) return undefined
    return { accessToken: value.accessToken, expiresOn: value.expiresOn }
  } catch {
    return undefined
  }
}
