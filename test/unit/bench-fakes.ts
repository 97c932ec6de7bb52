import type { Run } from '../../bench/measure.js'

/** One saturation run as bench/measure.ts records it: `rps` for 5 s, with the proxy's CPU and peak RSS when given. */
export function benchRun (target: Run['target'], rep: number, rps: number, cpu?: number, hwmKb?: number): Run {
  return {
    kind: 'saturation',
    rep,
    target,
    load: { tool: 'wrk', requests: rps * 5, non2xx: 0, errors: 0, durationSec: 5, rps, p50Ms: 1, p99Ms: 2 },
    upstreamCpuUsPerReq: 10,
    ...(cpu === undefined ? {} : { proxyCpuUsPerReq: cpu, proxyCpuPercent: 90, proxyRssKb: hwmKb, proxyHwmKb: hwmKb })
  }
}
