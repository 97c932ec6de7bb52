import { Counter, Histogram, Registry, Gauge } from 'prom-client'

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 210]

/** Every metric the gateway exports, on a registry of its own (never prom-client's global one). */
export interface GatewayMetrics {
  readonly registry: Registry
  /** labels route, method, status_class, client, region (+ tenant with metrics.tenantLabel) */
  readonly requests: Counter<string>
  /** labels route, method, status_class (+ tenant with metrics.tenantLabel) */
  readonly requestDuration: Histogram<string>
  /** whether the two above carry a tenant label */
  readonly tenantLabel: boolean
  readonly upstreamDuration: Histogram<'route' | 'region' | 'status_class'>
  readonly tokenAcquisitions: Counter<'outcome' | 'error_class'>
  readonly tokenAcquisitionDuration: Histogram<'outcome'>
  readonly tokenCacheHits: Counter
  readonly policyDenials: Counter<'reason'>
  readonly info: Gauge<'version'>
  /** rate budget answers: allowed, allowed_after_wait, denied_budget, denied_client_share, denied_upstream_hold */
  readonly rateBudgetDecisions: Counter<'rate_class' | 'outcome'>
  /** Defender answered 429 and the (tenant, class) was held */
  readonly rateBudgetHolds: Counter<'rate_class'>
}

/** Builds the registry; label sets are bounded (route names come from the catalogue, never from paths). */
export function createMetrics (version: string, options: { tenantLabel?: boolean } = {}): GatewayMetrics {
  const registry = new Registry()
  const registers = [registry]
  const tenantLabel = options.tenantLabel === true
  // The tenant label multiplies series by the number of tenants: opt-in only.
  const perTenant = tenantLabel ? ['tenant'] : []
  const metrics: GatewayMetrics = {
    registry,
    tenantLabel,
    requests: new Counter({
      name: 'defender_gateway_requests_total',
      help: 'Requests answered, by catalogue route, method, status class, client and region.',
      labelNames: ['route', 'method', 'status_class', 'client', 'region', ...perTenant],
      registers
    }),
    requestDuration: new Histogram({
      name: 'defender_gateway_request_duration_seconds',
      help: 'Time from request to the end of the response, by catalogue route, method and status class.',
      labelNames: ['route', 'method', 'status_class', ...perTenant],
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
      // server.workers: every worker says 1; summed it would say N
      aggregator: 'max',
      registers
    }),
    rateBudgetDecisions: new Counter({
      name: 'defender_gateway_rate_budget_decisions_total',
      help: 'Rate budget answers before forwarding, by rate class and outcome.',
      labelNames: ['rate_class', 'outcome'],
      registers
    }),
    rateBudgetHolds: new Counter({
      name: 'defender_gateway_rate_budget_holds_total',
      help: 'Times Defender answered 429 and a tenant budget was held until its Retry-After, by rate class.',
      labelNames: ['rate_class'],
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

/** Redis health metrics, registered only when redis.url is set (so a gateway without Redis shows no 'down'). */
export interface RedisMetrics {
  readonly up: Gauge
  readonly fallbacks: Counter<'operation'>
}

/** Registers the Redis metrics on an app's registry (once per registry). */
export function createRedisMetrics (registry: Registry): RedisMetrics {
  const registers = [registry]
  const existing = registry.getSingleMetric('defender_gateway_redis_up')
  if (existing !== undefined) {
    return { up: existing as Gauge, fallbacks: registry.getSingleMetric('defender_gateway_redis_fallbacks_total') as Counter<'operation'> }
  }
  return {
    up: new Gauge({
      name: 'defender_gateway_redis_up',
      help: '1 while Redis answers, 0 while the gateway serves from local state.',
      // server.workers: 0 as soon as one worker serves from local state
      aggregator: 'min',
      registers
    }),
    fallbacks: new Counter({
      name: 'defender_gateway_redis_fallbacks_total',
      help: 'Operations served from local state because Redis was down or failed, by operation.',
      labelNames: ['operation'],
      registers
    })
  }
}

/** Token lifecycle and credential metrics (src/tokens); registered with the token layer. */
export interface TokenMetrics {
  readonly credentialExpiry: Gauge<'credential'>
  readonly credentialRejections: Counter<'credential'>
  readonly refreshes: Counter<'outcome'>
  readonly staleServed: Counter
  readonly backoffRefusals: Counter<'error_class'>
  readonly sharedHits: Counter
}

/** Registers the token lifecycle metrics on an app's registry. */
export function createTokenMetrics (registry: Registry): TokenMetrics {
  const registers = [registry]
  return {
    credentialExpiry: new Gauge({
      name: 'defender_gateway_credential_expiry_timestamp_seconds',
      help: 'When each app credential expires (certificate notAfter or a secret\'s configured expiresOn), Unix seconds.',
      labelNames: ['credential'],
      aggregator: 'min',
      registers
    }),
    credentialRejections: new Counter({
      name: 'defender_gateway_credential_rejections_total',
      help: 'Token requests Entra ID refused because of the app credential (bad, expired or unknown), by credential.',
      labelNames: ['credential'],
      registers
    }),
    refreshes: new Counter({
      name: 'defender_gateway_token_refreshes_total',
      help: 'Background token renewals, by outcome (success, failure, skipped_idle).',
      labelNames: ['outcome'],
      registers
    }),
    staleServed: new Counter({
      name: 'defender_gateway_token_stale_served_total',
      help: 'Requests served a still-valid token while its renewal keeps failing.',
      registers
    }),
    backoffRefusals: new Counter({
      name: 'defender_gateway_token_backoff_refusals_total',
      help: 'Requests refused without asking Entra ID because their tenant is backing off, by error class.',
      labelNames: ['error_class'],
      registers
    }),
    sharedHits: new Counter({
      name: 'defender_gateway_token_shared_hits_total',
      help: 'Tokens taken from the replicas\' shared store (Redis) instead of asking Entra ID.',
      registers
    })
  }
}
