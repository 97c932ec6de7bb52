import { Counter, Histogram, Registry, Gauge } from 'prom-client'

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 210]

/** Every metric the gateway exports, on a registry of its own (never prom-client's global one). */
export interface GatewayMetrics {
  readonly registry: Registry
  readonly requests: Counter<'route' | 'method' | 'status_class' | 'client' | 'region'>
  readonly requestDuration: Histogram<'route' | 'method' | 'status_class'>
  readonly upstreamDuration: Histogram<'route' | 'region' | 'status_class'>
  readonly tokenAcquisitions: Counter<'outcome' | 'error_class'>
  readonly tokenAcquisitionDuration: Histogram<'outcome'>
  readonly tokenCacheHits: Counter
  readonly policyDenials: Counter<'reason'>
  readonly info: Gauge<'version'>
}

/** Builds the registry; label sets are bounded (route names come from the catalogue, never from paths). */
export function createMetrics (version: string): GatewayMetrics {
  const registry = new Registry()
  const registers = [registry]
  const metrics: GatewayMetrics = {
    registry,
    requests: new Counter({
      name: 'defender_gateway_requests_total',
      help: 'Requests answered, by catalogue route, method, status class, client and region.',
      labelNames: ['route', 'method', 'status_class', 'client', 'region'],
      registers
    }),
    requestDuration: new Histogram({
      name: 'defender_gateway_request_duration_seconds',
      help: 'Time from request to the end of the response, by catalogue route, method and status class.',
      labelNames: ['route', 'method', 'status_class'],
      buckets: DURATION_BUCKETS,
      registers
    }),
    upstreamDuration: new Histogram({
      name: 'defender_gateway_upstream_duration_seconds',
      help: 'Time until Defender answered headers, by route, region and status class.',
      labelNames: ['route', 'region', 'status_class'],
      buckets: DURATION_BUCKETS,
      registers
    }),
    tokenAcquisitions: new Counter({
      name: 'defender_gateway_token_acquisitions_total',
      help: 'Token requests to Entra ID, by outcome (success, failure) and error class.',
      labelNames: ['outcome', 'error_class'],
      registers
    }),
    tokenAcquisitionDuration: new Histogram({
      name: 'defender_gateway_token_acquisition_duration_seconds',
      help: 'Time a token request to Entra ID took, by outcome.',
      labelNames: ['outcome'],
      buckets: DURATION_BUCKETS,
      registers
    }),
    tokenCacheHits: new Counter({
      name: 'defender_gateway_token_cache_hits_total',
      help: 'Requests served with a cached tenant token.',
      registers
    }),
    policyDenials: new Counter({
      name: 'defender_gateway_policy_denials_total',
      help: 'Requests refused before forwarding, by error code.',
      labelNames: ['reason'],
      registers
    }),
    info: new Gauge({
      name: 'defender_gateway_build_info',
      help: 'Always 1; the version label says which build runs.',
      labelNames: ['version'],
      registers
    })
  }
  metrics.info.set({ version }, 1)
  return metrics
}

/** '2xx' from 204: status classes keep the label set small. */
export function statusClass (status: number): string {
  return `${Math.floor(status / 100)}xx`
}
