import type { Registry } from 'prom-client'

/**
 * What the primary and its workers say over cluster IPC. The `dgw` key keeps these apart from any other
 * message on the channel (prom-client's own cluster protocol, for one).
 */
export type ToPrimary =
  /** a starting worker asks for the config text the primary validated */
  | { readonly dgw: 'config?' }
  /** the worker's API listener is up; its private admin listener is on 127.0.0.1:adminPort */
  | { readonly dgw: 'listening', readonly url: string, readonly adminPort: number }
  | { readonly dgw: 'draining' }
  /** the answer to `metrics?`: the worker's registry as JSON, for AggregatorRegistry.aggregate */
  | { readonly dgw: 'metrics', readonly id: number, readonly metrics: WorkerMetrics }

export type ToWorker =
  /**
   * `text`: the config the primary started with (listeners, limits, upstream... change only with a
   * restart); `reloaded`: the last valid file since, for what a reload changes; `workers`: how many
   * processes split the budgets (the primary's count, whatever the file says now)
   */
  | { readonly dgw: 'config', readonly text: string, readonly reloaded: string | undefined, readonly workers: number }
  | { readonly dgw: 'metrics?', readonly id: number }

/** One registry's `getMetricsAsJSON()`. */
export type WorkerMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

/** Set in the environment of the workers our primary forks, so a worker of another cluster manager (PM2) is not mistaken for one. */
export const WORKER_ENV = 'DEFENDER_GATEWAY_WORKER'

/** Narrows whatever arrived on the channel to one of ours. */
export function isOurs<T extends { dgw: string }> (message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { dgw?: unknown }).dgw === 'string'
}

/** A cluster-level failure: a worker that never got its config, a scrape a worker did not answer. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError'
}
