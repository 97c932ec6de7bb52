import { randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import { createBackoff, type BackoffPolicy } from './backoff.js'
import { TokenMismatch } from './check.js'
import { classify } from './classify.js'
import type { TokenEvents, TokenProviderOptions } from './provider-options.js'
import { createReacquireGate } from './reacquire.js'
import { DEFAULT_REFRESH, realSchedule, refreshAt } from './refresh.js'
import { createSharedAcquire } from './shared-acquire.js'
import { TokenError, type TenantToken, type TokenProvider, type TokenStatus } from './types.js'

export type { TokenEvents, TokenProviderOptions } from './provider-options.js'

interface Entry {
  readonly token: TenantToken
  readonly refreshAt: number
  /** a request used the token since it was acquired (or since the last renewal attempt) */
  used: boolean
  /** the last renewal failed: requests are being served the old token */
  stale: boolean
  cancel: (() => void) | undefined
}

const NO_EVENTS: TokenEvents = { hit () {}, acquired () {}, failed () {} }
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000 }

/**
 * The gateway's own token cache in front of msal: per-tenant LRU, single-flight acquisition,
 * refresh-ahead for tenants in use, stale-if-error, per-tenant backoff and a short memory of tenants
 * that have not consented.
 */
export function createTokenProvider (options: TokenProviderOptions): TokenProvider {
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const schedule = options.schedule ?? realSchedule
  const events = options.events ?? NO_EVENTS
  const policy = options.refresh ?? DEFAULT_REFRESH
  const tokens = new LRUCache<string, Entry>({
    ...upTo(options.maxTenants),
    dispose (entry, tenantId, reason) {
      entry.cancel?.()
      // Keep msal's per-tenant clients in step with the tenants the cache still holds.
      if (reason === 'evict') options.source.forget(tenantId)
    }
  })
  const refusals = new LRUCache<string, TokenError>({ ...upTo(options.maxTenants), ttl: options.negativeTtlMs ?? 30_000, ttlResolution: 0, perf: { now } })
  const backoff = createBackoff(options.backoff ?? DEFAULT_BACKOFF, options.maxTenants, now, random)
  const flights = new Map<string, Promise<TenantToken>>()
  // Expiry of a token purged after upstream rejected it, so the same token is not taken back from the shared store.
  const rejected = new LRUCache<string, number>(upTo(options.maxTenants))
  const obtain = createSharedAcquire({ source: options.source, shared: options.shared, resource: options.resource, audienceAliases: options.audienceAliases, skewMs: options.skewMs, wait: options.sharedWait, now })
  const gate = createReacquireGate(options.reacquireCooldownMs ?? 0, options.maxTenants, now)
  const lastErrors = new LRUCache<string, NonNullable<TokenStatus['lastError']>>(upTo(options.maxTenants))
  let closed = false

  const usable = (entry: Entry | undefined): entry is Entry => entry !== undefined && entry.token.expiresOn - options.skewMs > now()

  const store = (tenantId: string, token: TenantToken, acquiredAt: number): void => {
    if (closed) return
    const at = policy === false ? Infinity : refreshAt(acquiredAt, token.expiresOn, options.skewMs, policy, random)
    const entry: Entry = { token, refreshAt: at, used: false, stale: false, cancel: undefined }
    tokens.set(tenantId, entry)
    rejected.delete(tenantId)
    if (at !== Infinity) entry.cancel = schedule(() => { onDue(tenantId, entry) }, Math.max(0, at - now()))
  }

  const acquire = async (tenantId: string, requestId: string, background: boolean): Promise<TenantToken> => {
    const started = now()
    try {
      const floor = Math.max(tokens.peek(tenantId)?.token.expiresOn ?? 0, rejected.get(tenantId) ?? 0)
      const fetched = await obtain(tenantId, requestId, floor)
      const token = fetched.token
      store(tenantId, token, started)
      backoff.reset(tenantId)
      lastErrors.delete(tenantId)
      if (fetched.shared) events.shared?.(tenantId, background)
      else events.acquired(tenantId, (now() - started) / 1000, background)
      return token
    } catch (err) {
      let error = classify(err, tenantId)
      if (error.kind === 'not-onboarded') {
        // A definite "no" (consent revoked, tenant gone) ends the old token too: not an outage to ride out.
        refusals.set(tenantId, error)
        tokens.delete(tenantId)
      } else if (error instanceof TokenMismatch) {
        // The identity path handed over someone else's token: trust nothing cached for the tenant either.
        tokens.delete(tenantId)
        events.mismatch?.(error.details, background)
        error = backoff.fail(tenantId, error)
      } else {
        error = backoff.fail(tenantId, error)
        const entry = tokens.peek(tenantId)
        if (entry !== undefined) entry.stale = true
      }
      events.failed(tenantId, error.kind, (now() - started) / 1000, error.message, background)
      lastErrors.set(tenantId, { kind: error.kind, message: error.message, at: now() })
      throw error
    }
  }

  const start = (tenantId: string, requestId: string, background: boolean): Promise<TenantToken> => {
    let flight = flights.get(tenantId)
    if (flight === undefined) {
      // The flight is forgotten before its waiters resume, so they see the settled state.
      flight = acquire(tenantId, requestId, background).finally(() => flights.delete(tenantId))
      flights.set(tenantId, flight)
    }
    return flight
  }

  /** Renews a token in use in the background, or waits for the tenant's backoff to end first. */
  const renew = (tenantId: string, entry: Entry): void => {
    if (closed || flights.has(tenantId) || entry.cancel !== undefined) return
    const waitUntil = backoff.until(tenantId)
    if (waitUntil > 0) {
      entry.cancel = schedule(() => { onDue(tenantId, entry) }, waitUntil - now())
      return
    }
    entry.used = false
    // Failures are already counted and logged in acquire; requests keep the old token meanwhile.
    start(tenantId, `refresh-${randomUUID()}`, true).catch(() => {})
  }

  function onDue (tenantId: string, entry: Entry): void {
    entry.cancel = undefined
    // Only the cached entry's timer can fire: replacing or dropping an entry cancels its timer (dispose).
    if (!usable(entry)) return
    if (!entry.used) {
      // Idle tenant: let the token run out; the next request renews it (in the background if still valid).
      events.idle?.(tenantId)
      return
    }
    renew(tenantId, entry)
  }

  const refuse = (tenantId: string): TokenError | undefined => {
    const refused = refusals.get(tenantId)
    if (refused !== undefined) return refused
    const blocked = backoff.blocked(tenantId)
    if (blocked !== undefined) events.backedOff?.(tenantId, blocked.kind)
    return blocked
  }

  /** Inside a cool-down window: the window's outcome, i.e. the token it cached, or its failure. */
  const shareWindow = async (tenantId: string, flight: Promise<TenantToken>): Promise<TenantToken> => {
    events.reacquire?.(tenantId, 'shared')
    await flight
    const entry = tokens.peek(tenantId)
    if (usable(entry)) return entry.token
    // Defender rejected the window's token too (it was purged): asking Entra ID again would not help yet.
    const seconds = Math.max(1, Math.ceil(gate.waitMs(tenantId) / 1000))
    throw new TokenError('transient', `Defender rejected the new token for tenant ${tenantId} as well; the gateway asks Entra ID again in ${seconds} s`, undefined, seconds)
  }

  /** Replaces a rejected token or forces a new one: once per tenant per cool-down window, shared. */
  const reacquire = (tenantId: string, requestId: string): Promise<TenantToken> => {
    const open = gate.open(tenantId)
    if (open !== undefined) return shareWindow(tenantId, open)
    const refused = refuse(tenantId)
    if (refused !== undefined) return Promise.reject(refused)
    const flight = start(tenantId, requestId, false)
    gate.started(tenantId, flight)
    events.reacquire?.(tenantId, 'started')
    return flight
  }

  return {
    get (tenantId, requestId) {
      const entry = tokens.get(tenantId)
      if (usable(entry)) {
        entry.used = true
        events.hit()
        if (entry.stale) events.servedStale?.(tenantId)
        if (now() >= entry.refreshAt) renew(tenantId, entry)
        return Promise.resolve(entry.token)
      }
      // The last token was purged because Defender rejected it: replacing it is a re-acquisition.
      if (rejected.has(tenantId)) return reacquire(tenantId, requestId)
      const refused = refuse(tenantId)
      if (refused !== undefined) return Promise.reject(refused)
      return start(tenantId, requestId, false)
    },
    refresh: reacquire,
    reacquireWaitMs: (tenantId) => gate.waitMs(tenantId),
    status (tenantId) {
      const entry = tokens.peek(tenantId)
      const token = usable(entry) ? { expiresOn: entry.token.expiresOn, roles: entry.token.roles, stale: entry.stale } : undefined
      const remaining = refusals.getRemainingTTL(tenantId)
      return { token, lastError: lastErrors.peek(tenantId), refusedUntil: remaining > 0 ? now() + remaining : undefined }
    },
    forgetRefusal: (tenantId) => { refusals.delete(tenantId) },
    purge (tenantId) {
      const entry = tokens.peek(tenantId)
      if (entry !== undefined) rejected.set(tenantId, entry.token.expiresOn)
      tokens.delete(tenantId)
    },
    close () {
      closed = true
      tokens.clear()
      options.source.close()
    }
  }
}
