import { LRUCache } from 'lru-cache'
import { upTo } from '../bounded-cache.js'
import type { TenantToken } from './types.js'

/**
 * Remembers each tenant's last re-acquisition (a token replaced because Defender rejected it, or an
 * operator's forced refresh) for a cool-down window, so everyone who asks in the window shares it
 * instead of sending Entra ID another request: a 401 storm costs one token request per window.
 */
export interface ReacquireGate {
  /** the flight of the tenant's open window, or undefined when a new re-acquisition may start */
  open (tenantId: string): Promise<TenantToken> | undefined
  /** records a re-acquisition starting now */
  started (tenantId: string, flight: Promise<TenantToken>): void
  /** ms left in the tenant's window; 0 when none is open */
  waitMs (tenantId: string): number
}

/** Creates the gate, bounded like the token cache so a tenant flood cannot grow it. */
export function createReacquireGate (cooldownMs: number, maxTenants: number, now: () => number): ReacquireGate {
  const windows = new LRUCache<string, { until: number, flight: Promise<TenantToken> }>(upTo(maxTenants))
  const live = (tenantId: string): { until: number, flight: Promise<TenantToken> } | undefined => {
    const window = windows.get(tenantId)
    return window !== undefined && window.until > now() ? window : undefined
  }
  return {
    open: (tenantId) => live(tenantId)?.flight,
    started (tenantId, flight) {
      if (cooldownMs > 0) windows.set(tenantId, { until: now() + cooldownMs, flight })
    },
    waitMs (tenantId) {
      const window = live(tenantId)
      return window === undefined ? 0 : window.until - now()
    }
  }
}
