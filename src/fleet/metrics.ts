import { Counter, Histogram, type Registry } from 'prom-client'

/** What fleet reads did: pages served, how each tenant read ended, items passed on, page time. */
export interface FleetMetrics {
  readonly pages: Counter<'client' | 'last'>
  readonly tenantReads: Counter<'outcome'>
  readonly items: Counter<'route'>
  readonly pageDuration: Histogram
}

/** Tenant read outcomes (bounded label values). */
export type TenantOutcome = 'more' | 'complete' | 'deferred' | 'busy' | 'failed' | 'given_up' | 'not_read'

export function createFleetMetrics (registry: Registry): FleetMetrics {
  const registers = [registry]
  return {
    pages: new Counter({ name: 'defender_gateway_fleet_pages_total', help: 'Fleet pages served; last="true" for the page that ended an iteration (no nextLink).', labelNames: ['client', 'last'], registers }),
    tenantReads: new Counter({ name: 'defender_gateway_fleet_tenant_reads_total', help: 'Tenant pages a fleet page tried, by outcome (more, complete, deferred for budget, failed, given_up after too many failures or for good, not_read in the page time).', labelNames: ['outcome'], registers }),
    items: new Counter({ name: 'defender_gateway_fleet_items_total', help: 'Items fleet pages passed on, by catalogue route.', labelNames: ['route'], registers }),
    pageDuration: new Histogram({ name: 'defender_gateway_fleet_page_duration_seconds', help: 'Time from a fleet request to the last byte of its page.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60], registers })
  }
}
