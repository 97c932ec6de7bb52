import cluster, { type Worker } from 'node:cluster'
import { AggregatorRegistry, type Registry } from 'prom-client'
import { ClusterError, isOurs, type ToPrimary, type ToWorker, type WorkerMetrics } from './messages.js'

/** One scrape of the whole cluster. */
export interface MetricsGather {
  /** the workers' registries and the primary's own, merged into one Prometheus text */
  scrape (): Promise<string>
  close (): void
}

interface Pending {
  readonly waiting: Set<number>
  readonly replies: WorkerMetrics[]
  readonly done: (err?: Error) => void
}

/**
 * Asks every ready worker for its registry over IPC and merges the answers with prom-client's
 * `AggregatorRegistry.aggregate`: counters and histograms are summed, gauges use the aggregator each
 * declares. Not `AggregatorRegistry#clusterMetrics`: that asks every connected worker, including one
 * still loading that cannot answer yet, so a scrape during a restart would fail after its fixed 5 s.
 */
export function createMetricsGather (options: { workers: () => readonly Worker[], own: Registry, timeoutMs: number }): MetricsGather {
  let next = 0
  const pending = new Map<number, Pending>()

  function onMessage (worker: Worker, message: unknown): void {
    if (!isOurs<ToPrimary>(message) || message.dgw !== 'metrics') return
    const request = pending.get(message.id)
    if (request === undefined || !request.waiting.delete(worker.id)) return
    request.replies.push(message.metrics)
    if (request.waiting.size === 0) request.done()
  }
  // A worker that exits mid-scrape has nothing more to say: the scrape goes on without it.
  function onExit (worker: Worker): void {
    for (const request of pending.values()) {
      if (request.waiting.delete(worker.id) && request.waiting.size === 0) request.done()
    }
  }
  cluster.on('message', onMessage)
  cluster.on('exit', onExit)

  async function ask (workers: readonly Worker[]): Promise<WorkerMetrics[]> {
    const id = next++
    const replies: WorkerMetrics[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        request.done(new ClusterError(`worker(s) ${[...request.waiting].join(', ')} sent no metrics within ${options.timeoutMs} ms`))
      }, options.timeoutMs)
      const request: Pending = {
        waiting: new Set(workers.map((w) => w.id)),
        replies,
        done (err) {
          clearTimeout(timer)
          pending.delete(id)
          if (err === undefined) resolve()
          else reject(err)
        }
      }
      pending.set(id, request)
      const message: ToWorker = { dgw: 'metrics?', id }
      for (const worker of workers) worker.send(message, (err) => { if (err !== null) onExit(worker) })
      if (workers.length === 0) request.done()
    })
    return replies
  }

  return {
    async scrape () {
      const replies = await ask(options.workers())
      const merged = AggregatorRegistry.aggregate([...replies, await options.own.getMetricsAsJSON()])
      return await merged.metrics()
    },
    close () {
      cluster.off('message', onMessage)
      cluster.off('exit', onExit)
    }
  }
}
