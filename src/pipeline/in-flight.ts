/** Which cap refused a request. */
export type InFlightRefusal = 'client' | 'tenant'

/** Requests in flight per client and per tenant, so no one caller holds every upstream connection. */
export interface InFlight {
  /** takes a slot for (client, tenant), or names the cap that is full (then nothing is taken) */
  take (client: string, tenant: string): InFlightRefusal | undefined
  release (client: string, tenant: string): void
  /** every slot taken, for the gauge */
  total (): number
}

/** In-flight counters with a cap per client and per tenant; a pure structure, no timers, no I/O. */
export function createInFlight (limits: { readonly perClient: number, readonly perTenant: number }): InFlight {
  const clients = new Map<string, number>()
  const tenants = new Map<string, number>()
  let total = 0
  return {
    take (client, tenant) {
      const byClient = clients.get(client) ?? 0
      if (byClient >= limits.perClient) return 'client'
      const byTenant = tenants.get(tenant) ?? 0
      if (byTenant >= limits.perTenant) return 'tenant'
      clients.set(client, byClient + 1)
      tenants.set(tenant, byTenant + 1)
      total++
      return undefined
    },
    release (client, tenant) {
      decrement(clients, client)
      decrement(tenants, tenant)
      total--
    },
    total: () => total
  }
}

// Entries at zero are removed, so the maps hold only callers with requests in flight.
function decrement (counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1
  if (n <= 0) counts.delete(key)
  else counts.set(key, n)
}
