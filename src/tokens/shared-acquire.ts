import { checkToken, TokenMismatch, type TokenOrigin } from './check.js'
import type { AcquiredToken, SharedTokenStore, TenantToken, TokenSource } from './types.js'

/** How a replica waits for another replica's token request. */
export interface SharedWait {
  /** how long the per-tenant lock is held at most (a crashed holder frees it after this) */
  readonly lockMs: number
  /** how often a replica that did not get the lock looks for the holder's token */
  readonly pollMs: number
  /** how long it looks before asking Entra ID itself */
  readonly maxWaitMs: number
}

export const DEFAULT_SHARED_WAIT: SharedWait = { lockMs: 10_000, pollMs: 50, maxWaitMs: 10_000 }

/** A checked token and whether it came from the shared store (another replica's request) or from the source. */
export interface Fetched {
  readonly token: TenantToken
  readonly shared: boolean
}

/**
 * Gets a tenant's token for the provider: `floor` is the expiry of the token being replaced (a token
 * that is renewed or was rejected), so a shared token is only taken when it is newer than that.
 */
export type Fetch = (tenantId: string, requestId: string, floor: number) => Promise<Fetched>

export interface SharedAcquireOptions {
  readonly source: TokenSource
  readonly shared?: SharedTokenStore | undefined
  /** the configured Defender resource every token must be for */
  readonly resource: string
  /** other exact `aud` values of that resource (see TokenExpectation) */
  readonly audienceAliases?: readonly string[]
  readonly skewMs: number
  readonly wait?: SharedWait | undefined
  readonly now: () => number
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** The store's answer, or `fallback` if it throws (at once or later): the store must never fail a request. */
async function safely<T> (op: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await op()
  } catch {
    return fallback
  }
}

/**
 * The shared store in front of the source: a valid shared token is used as is; otherwise one replica
 * (the lock holder) asks Entra ID and publishes, and the others wait for its token. The store never
 * decides an outcome: whatever it throws counts as "nothing shared" / "lock is yours", so a broken
 * store means each replica asks Entra ID itself, as it would without one. Every token, from the source
 * or the store, passes `admit` before anyone uses or publishes it.
 */
export function createSharedAcquire (options: SharedAcquireOptions): Fetch {
  const { source, shared, skewMs, now } = options

  /**
   * The choke point: checks a token's tenant and resource. A token that fails is removed from the shared
   * store too (a replica that published it, or a poisoned key, must not hand it to anyone else).
   */
  const admit = async (tenantId: string, token: AcquiredToken, origin: TokenOrigin): Promise<TenantToken> => {
    try {
      return checkToken(token, { tenantId, resource: options.resource, audienceAliases: options.audienceAliases }, origin)
    } catch (err) {
      if (err instanceof TokenMismatch && shared !== undefined) await safely(async () => { await shared.delete(tenantId) }, undefined)
      throw err
    }
  }

  if (shared === undefined) {
    return async (tenantId, requestId) => ({ token: await admit(tenantId, await source.acquire(tenantId, requestId), 'entra'), shared: false })
  }
  const store: SharedTokenStore = shared
  const wait = options.wait ?? DEFAULT_SHARED_WAIT
  const polls = Math.max(1, Math.ceil(wait.maxWaitMs / wait.pollMs))

  const read = async (tenantId: string, floor: number): Promise<TenantToken | undefined> => {
    const found = await safely(async () => await store.get(tenantId), undefined)
    const fresh = found !== undefined && found.expiresOn - skewMs > now() && found.expiresOn > floor
    return fresh ? await admit(tenantId, found, 'shared') : undefined
  }
  const lock = async (tenantId: string): Promise<boolean> => await safely(async () => await store.lock(tenantId, wait.lockMs), true)

  /** Asks the source and publishes the token for the other replicas. */
  const request = async (tenantId: string, requestId: string): Promise<Fetched> => {
    const token = await admit(tenantId, await source.acquire(tenantId, requestId), 'entra')
    await safely(async () => { await store.set(tenantId, token, skewMs) }, undefined)
    return { token, shared: false }
  }

  /** With the lock: look once more (another replica may have just published), else ask and publish. */
  const asHolder = async (tenantId: string, requestId: string, floor: number): Promise<Fetched> => {
    try {
      const found = await read(tenantId, floor)
      return found === undefined ? await request(tenantId, requestId) : { token: found, shared: true }
    } finally {
      await safely(async () => { await store.unlock(tenantId) }, undefined)
    }
  }

  return async function fetchShared (tenantId, requestId, floor) {
    const found = await read(tenantId, floor)
    if (found !== undefined) return { token: found, shared: true }
    if (await lock(tenantId)) return await asHolder(tenantId, requestId, floor)
    // Another replica is asking: wait for its token. If it gives up (failure, crash) the lock frees
    // and this replica takes over; past the wait it asks Entra ID itself.
    for (let i = 0; i < polls; i++) {
      await sleep(wait.pollMs)
      const published = await read(tenantId, floor)
      if (published !== undefined) return { token: published, shared: true }
      if (await lock(tenantId)) return await asHolder(tenantId, requestId, floor)
    }
    return await request(tenantId, requestId)
  }
}
