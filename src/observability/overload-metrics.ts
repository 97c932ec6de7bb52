import { Counter, Gauge, type Registry } from 'prom-client'

/** Why a request was refused or cut off so that it could not starve the others. */
export type OverloadReason = 'client_in_flight' | 'tenant_in_flight' | 'body_idle' | 'request_deadline' | 'response_write_idle'

/** Overload metrics: how often the fairness guards acted, and how many requests are in flight. */
export interface OverloadMetrics {
  readonly refusals: Counter<'reason'>
  readonly inFlight: Gauge
}

export function createOverloadMetrics (registry: Registry, inFlight: () => number): OverloadMetrics {
  const registers = [registry]
  return {
    refusals: new Counter({
      name: 'defender_gateway_overload_refusals_total',
      help: 'Requests refused (in-flight caps) or cut off (idle body, deadline, caller not reading) to protect other callers.',
      labelNames: ['reason'],
      registers
    }),
    inFlight: new Gauge({
      name: 'defender_gateway_in_flight_requests',
      help: 'Admitted API requests not yet answered to the end.',
      aggregator: 'sum',
      registers,
      collect () { this.set(inFlight()) }
    })
  }
}
