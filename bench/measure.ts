import { runLoad, type LoadResult } from './load.js'
import type { BenchOptions } from './options.js'
import { readProcs } from './procstat.js'
import type { Target } from './world.js'

/** One measured run: the load result plus what the proxy and the upstream spent on it. */
export interface Run {
  readonly kind: 'warmup' | 'saturation' | 'fixed-rate'
  readonly rep: number
  readonly target: Target['name']
  readonly load: LoadResult
  /** proxy user+system CPU per completed request, µs (undefined for direct) */
  readonly proxyCpuUsPerReq?: number
  /** proxy CPU time / wall time of the run, percent of one core */
  readonly proxyCpuPercent?: number
  readonly proxyRssKb?: number
  /** peak RSS (VmHWM) of the proxy's processes so far, summed */
  readonly proxyHwmKb?: number
  readonly upstreamCpuUsPerReq: number
  /** upstream connections the gateway opened during the run (each costs a TLS handshake) */
  readonly newUpstreamConnections?: number
}

/** Runs the load generator against one target and reads /proc before and after. */
export async function measure (opts: BenchOptions, target: Target, upstreamPids: () => number[],
  kind: Run['kind'], rep: number, durationSec: number, rate?: number): Promise<Run> {
  const pids = target.proxyPids()
  const connsBefore = (await target.stats?.())?.upstreamConnections
  const before = { proxy: readProcs(pids), upstream: readProcs(upstreamPids()), at: process.hrtime.bigint() }
  const load = await runLoad({
    url: target.url,
    headers: target.headers,
    durationSec,
    connections: rate === undefined ? opts.connections : Math.min(opts.rateConnections, rate),
    ...(rate === undefined ? {} : { rate }),
    wrk: opts.wrk,
    cpus: opts.cpus
  })
  const wallUs = Number(process.hrtime.bigint() - before.at) / 1000
  const proxy = readProcs(target.proxyPids())
  const upstream = readProcs(upstreamPids())
  const connsAfter = (await target.stats?.())?.upstreamConnections
  const n = Math.max(1, load.requests)
  const proxyCpu = proxy.cpuMicros - before.proxy.cpuMicros
  return {
    kind,
    rep,
    target: target.name,
    load,
    ...(pids.length === 0
      ? {}
      : { proxyCpuUsPerReq: proxyCpu / n, proxyCpuPercent: 100 * proxyCpu / wallUs, proxyRssKb: proxy.rssKb, proxyHwmKb: proxy.hwmKb }),
    upstreamCpuUsPerReq: (upstream.cpuMicros - before.upstream.cpuMicros) / n,
    ...(connsBefore === undefined || connsAfter === undefined ? {} : { newUpstreamConnections: connsAfter - connsBefore })
  }
}

/** Why a run does not count: failed requests, or no answer at all in a measured run (a warm-up may stall). */
export function problemsOf (run: Run): string | undefined {
  const { non2xx, errors, requests } = run.load
  if (non2xx === 0 && errors === 0 && (requests > 0 || run.kind === 'warmup')) return undefined
  return `${run.kind} rep ${run.rep} ${run.target}: ${requests} requests, ${non2xx} non-2xx, ${errors} errors`
}
