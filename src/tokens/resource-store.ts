import type { SharedTokenStore } from './types.js'

/**
 * The replicas' shared token store for one more resource of the same app: every key (token, lock, and
 * the tenant id the seal authenticates) carries the resource's label, so a Graph token and a Defender
 * token of one tenant are two entries and one can never be read back as the other.
 */
export function storeForResource (store: SharedTokenStore, label: string): SharedTokenStore {
  const key = (tenantId: string): string => `${tenantId}|${label}`
  return {
    get: async (tenantId) => await store.get(key(tenantId)),
    set: async (tenantId, token, skewMs) => { await store.set(key(tenantId), token, skewMs) },
    lock: async (tenantId, ttlMs) => await store.lock(key(tenantId), ttlMs),
    unlock: async (tenantId) => { await store.unlock(key(tenantId)) },
    delete: async (tenantId) => { await store.delete(key(tenantId)) }
  }
}
