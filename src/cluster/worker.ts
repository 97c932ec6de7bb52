import cluster from 'node:cluster'
import type { Registry } from 'prom-client'
import type { WorkerPlacement } from '../app.js'
import { ClusterError, isOurs, WORKER_ENV, type ToPrimary, type ToWorker } from './messages.js'

/** This process as one worker of a cluster: what the primary gave it and how it reports back. */
export interface ClusterMember {
  /** the config the cluster started with: a file edited since, but not validated by the primary, does not leak in */
  readonly configText: string
  /** the last file the primary validated on SIGHUP, if any: its clients, tenants and extraRoutes apply */
  readonly reloadedText: string | undefined
  readonly placement: WorkerPlacement
  /** on every log line of this worker, so interleaved lines say which process wrote them */
  readonly logBindings: { readonly role: 'worker', readonly worker: number, readonly pid: number }
  /** tells the primary this worker serves, and from now on answers its scrapes from `registry` */
  listening (registry: Registry, url: string, adminUrl: string): void
  /** tells the primary to stop counting this worker as ready */
  draining (): void
}

const CONFIG_TIMEOUT_MS = 10_000

/** Asks the primary for the config; called first thing in a worker. */
export async function joinCluster (): Promise<ClusterMember> {
  const { text, reloaded, workers } = await askForConfig()
  return {
    configText: text,
    reloadedText: reloaded,
    // Port 0 and exclusive: a port of this worker's own, not one cluster would share among workers.
    placement: { count: workers, adminListen: { host: '127.0.0.1', port: 0, exclusive: true } },
    logBindings: { role: 'worker', worker: cluster.worker?.id ?? 0, pid: process.pid },
    listening (registry, url, adminUrl) {
      process.on('message', function answerScrape (message: unknown) {
        if (!isOurs<ToWorker>(message) || message.dgw !== 'metrics?') return
        // A registry that fails to collect sends nothing: the primary's scrape times out and says so.
        registry.getMetricsAsJSON().then((metrics) => send({ dgw: 'metrics', id: message.id, metrics }), () => {})
      })
      send({ dgw: 'listening', url, adminPort: Number(new URL(adminUrl).port) })
    },
    draining () {
      send({ dgw: 'draining' })
    }
  }
}

/** True in a worker forked by our own primary (not by PM2's or another cluster manager's). */
export function isOurWorker (env: Readonly<Record<string, string | undefined>>): boolean {
  return cluster.isWorker && env[WORKER_ENV] === '1'
}

async function askForConfig (): Promise<{ text: string, reloaded: string | undefined, workers: number }> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onConfig)
      reject(new ClusterError(`the cluster primary sent no config within ${CONFIG_TIMEOUT_MS} ms`))
    }, CONFIG_TIMEOUT_MS)
    function onConfig (message: unknown): void {
      if (!isOurs<ToWorker>(message) || message.dgw !== 'config') return
      clearTimeout(timer)
      process.off('message', onConfig)
      resolve({ text: message.text, reloaded: message.reloaded, workers: message.workers })
    }
    process.on('message', onConfig)
    send({ dgw: 'config?' })
  })
}

function send (message: ToPrimary): void {
  // Without a channel the primary is gone, and node's cluster ends this worker by itself.
  if (process.connected) process.send?.(message)
}
