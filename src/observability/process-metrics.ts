import { readdirSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { Counter, Gauge, type Registry } from 'prom-client'

/** The event-loop monitor behind the lag gauges; stopped when the gateway closes. */
export interface ProcessMetrics {
  close (): void
}

const NS_PER_S = 1e9
// Sampling resolution of the event-loop delay histogram: fine enough for lag that matters (ms).
const RESOLUTION_MS = 10

/**
 * Resident memory, CPU, open file descriptors, event-loop lag and heap of this process, read at scrape
 * time. Written out rather than prom-client's collectDefaultMetrics, whose `*_total` gauges fail
 * `promtool check metrics`; names follow Prometheus' process_* conventions under our prefix. In a
 * cluster each worker reports its own and the scrape sums them (lag: the worst worker).
 */
export function createProcessMetrics (registry: Registry): ProcessMetrics {
  const gauge = (name: string, help: string, aggregator: 'sum' | 'min', read: () => number): void => {
    // prom-client calls collect() on every scrape of the registry.
    registry.registerMetric(new Gauge({ name, help, aggregator, registers: [], collect () { this.set(read()) } }))
  }
  gauge('defender_gateway_process_resident_memory_bytes', 'Resident memory (RSS) of the gateway process.', 'sum', () => process.memoryUsage.rss())
  gauge('defender_gateway_process_open_fds', 'Open file descriptors (sockets included) of the gateway process.', 'sum', openFds)
  gauge('defender_gateway_process_start_time_seconds', 'When the gateway process started, in seconds since the Unix epoch.', 'min', () => Math.round(Date.now() / 1000 - process.uptime()))
  gauge('defender_gateway_heap_used_bytes', 'V8 heap in use by JavaScript objects.', 'sum', () => getHeapStatistics().used_heap_size)
  gauge('defender_gateway_heap_size_bytes', 'V8 heap reserved (used or not).', 'sum', () => getHeapStatistics().total_heap_size)
  gauge('defender_gateway_heap_limit_bytes', 'Largest V8 heap this process may grow to (--max-old-space-size).', 'min', () => getHeapStatistics().heap_size_limit)
  let cpuReported = 0
  registry.registerMetric(new Counter({
    name: 'defender_gateway_process_cpu_seconds_total',
    help: 'CPU time (user and system) the gateway process has used.',
    aggregator: 'sum',
    registers: [],
    collect () {
      const { user, system } = process.cpuUsage()
      const total = (user + system) / 1e6
      // A counter only goes up: add what was used since the last scrape.
      this.inc(Math.max(0, total - cpuReported))
      cpuReported = Math.max(cpuReported, total)
    }
  }))
  const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  lag.enable()
  registry.registerMetric(new Gauge({
    name: 'defender_gateway_eventloop_lag_seconds',
    help: 'Event-loop delay since the previous scrape: p50, p99 and max (high values: CPU-bound, requests wait).',
    labelNames: ['stat'],
    aggregator: 'max',
    registers: [],
    collect () {
      // Per scrape window, so a stall shows when it happens and fades after it.
      const seen = lag.count > 0
      this.set({ stat: 'p50' }, seen ? lag.percentile(50) / NS_PER_S : 0)
      this.set({ stat: 'p99' }, seen ? lag.percentile(99) / NS_PER_S : 0)
      this.set({ stat: 'max' }, seen ? lag.max / NS_PER_S : 0)
      lag.reset()
    }
  }))
  return { close () { lag.disable() } }
}

/** Entries of /proc/self/fd (Linux), minus the one readdir itself holds open; 0 where there is none. */
function openFds (): number {
  try {
    return Math.max(0, readdirSync('/proc/self/fd').length - 1)
  } catch {
    return 0
  }
}
