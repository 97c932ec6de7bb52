import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import type { TokenError } from './types.js'

/** How long a tenant waits after failed token requests. */
export interface BackoffPolicy {
  /** first wait; 0 turns the gateway's own backoff off (Entra's Retry-After is still honoured) */
  readonly initialMs: number
  /** longest exponential wait */
  readonly maxMs: number
}

/** Entra's Retry-After is honoured up to msal's own ceiling, so a bogus header cannot park a tenant for days. */
export const RETRY_AFTER_CAP_MS = 3600_000

/**
 * Wait after the n-th consecutive failure: exponential with "equal jitter" (half fixed, half random), so
 * tenants that failed together do not retry together; never shorter than Entra's Retry-After.
 */
export function backoffDelay (failures: number, policy: BackoffPolicy, random: () => number, retryAfterSeconds?: number): number {
  const exp = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, failures - 1))
  const jittered = exp / 2 + random() * exp / 2
  const floor = Math.min((retryAfterSeconds ?? 0) * 1000, RETRY_AFTER_CAP_MS)
  return Math.max(jittered, floor)
}

/** Seconds from a Retry-After header (delta-seconds or HTTP-date); undefined when absent or unreadable. */
export function parseRetryAfter (value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  // Only an HTTP-date (it names a weekday and month); Date.parse would also take '-5' as a year.
  const at = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000))
}

interface BackoffState {
  failures: number
  until: number
  error: TokenError
}

/** Per-tenant backoff memory: which tenants are waiting, until when, and why. */
export interface TenantBackoff {
  /** the error to fail fast with (its retry hint set to what is left), or undefined when not waiting */
  blocked (tenantId: string): TokenError | undefined
  /** epoch ms the tenant may ask again; 0 when it may ask now */
  until (tenantId: string): number
  /** records a failure; returns the error carrying the wait as its retry hint */
  fail (tenantId: string, error: TokenError): TokenError
  reset (tenantId: string): void
}

/** Creates the backoff memory, bounded like the token cache so a tenant flood cannot grow it. */
export function createBackoff (policy: BackoffPolicy, maxTenants: number, now: () => number, random: () => number): TenantBackoff {
  const states = new LRUCache<string, BackoffState>(upTo(maxTenants))
  const until = (tenantId: string): number => {
    const state = states.get(tenantId)
    return state !== undefined && state.until > now() ? state.until : 0
  }
  return {
    until,
    blocked (tenantId) {
      const at = until(tenantId)
      if (at === 0) return undefined
      return states.get(tenantId)!.error.withRetryAfter(Math.max(1, Math.ceil((at - now()) / 1000)))
    },
    fail (tenantId, error) {
      const failures = (states.get(tenantId)?.failures ?? 0) + 1
      const wait = backoffDelay(failures, policy, random, error.retryAfterSeconds)
      const hinted = error.withRetryAfter(Math.max(1, Math.ceil(wait / 1000)))
      states.set(tenantId, { failures, until: now() + wait, error: hinted })
      return hinted
    },
    reset (tenantId) { states.delete(tenantId) }
  }
}
