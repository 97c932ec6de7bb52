import { Counter, Gauge, Registry } from 'prom-client'

/** The cluster primary's own metrics (server.workers > 1), merged into the workers' aggregated scrape. */
export interface ClusterMetrics {
  readonly registry: Registry
  readonly workersReady: Gauge
  readonly restarts: Counter
}

/** A registry of the primary's: it serves no requests, so this is all it has to say. */
export function createClusterMetrics (): ClusterMetrics {
  const registry = new Registry()
  const registers = [registry]
  return {
    registry,
    workersReady: new Gauge({
      name: 'defender_gateway_workers_ready',
      help: 'Worker processes listening and not draining (server.workers sets how many there should be).',
      registers
    }),
    restarts: new Counter({
      name: 'defender_gateway_worker_restarts_total',
      help: 'Worker processes that exited unexpectedly and were started again.',
      registers
    })
  }
}
