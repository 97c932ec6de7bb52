import { Counter, Gauge, type Registry } from 'prom-client'

/** Region metrics: what `auto` measured and chose, so an operator can see why traffic went where. */
export interface RegionMetrics {
  readonly rtt: Gauge<'region'>
  readonly up: Gauge<'region'>
  readonly selections: Counter<'region'>
  readonly failovers: Counter<'from' | 'to'>
}

export function createRegionMetrics (registry: Registry): RegionMetrics {
  const registers = [registry]
  return {
    // server.workers: each worker measures for itself; the scrape shows their mean, and a region as up
    // only while every worker has it in rotation.
    rtt: new Gauge({ name: 'defender_gateway_region_rtt_seconds', help: 'Smoothed round-trip time to each Defender region.', labelNames: ['region'], aggregator: 'average', registers }),
    up: new Gauge({ name: 'defender_gateway_region_up', help: '1 when a Defender region is in rotation, 0 while it is backed off after failures.', labelNames: ['region'], aggregator: 'min', registers }),
    selections: new Counter({ name: 'defender_gateway_region_selections_total', help: 'Requests sent to each Defender region (first attempt).', labelNames: ['region'], registers }),
    failovers: new Counter({ name: 'defender_gateway_region_failovers_total', help: 'Idempotent requests retried on another region after the first failed before any response byte.', labelNames: ['from', 'to'], registers })
  }
}
