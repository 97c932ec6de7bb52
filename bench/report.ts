import type { Run } from './measure.js'
import { TARGET_NAMES } from './world.js'

/** Median of the finite values; NaN when there are none. */
export function median (values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (v.length === 0) return Number.NaN
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2
}

/** The gateway against one other target, per repetition (gateway / other) and the median. */
export interface Ratio {
  readonly rps: number[]
  readonly cpuPerReq: number[]
  readonly medianRps: number
  readonly medianCpuPerReq: number
}

/** Per repetition comparisons that the tables and the JSON share. */
export interface Summary {
  readonly saturation: Record<string, { rps: number, p50Ms: number, p99Ms: number, proxyCpuUsPerReq: number, upstreamCpuUsPerReq: number, peakRssMb: number }>
  /** gateway / target for every other target (direct has no proxy CPU: its cpuPerReq is empty) */
  readonly ratios: Record<string, Ratio>
  readonly fixedRate: {
    rate: number
    /** false when a target completed under 95% of the rate: its latency then includes queueing */
    sustained: boolean
    addedP50Ms: number[]
    addedP99Ms: number[]
    medianAddedP50Ms: number
    medianAddedP99Ms: number
  }
}

function find (runs: readonly Run[], kind: Run['kind'], rep: number, target: Run['target']): Run | undefined {
  return runs.find((r) => r.kind === kind && r.rep === rep && r.target === target)
}

function perRep (runs: readonly Run[], kind: Run['kind'], reps: number, f: (a: Run, b: Run) => number, a: Run['target'], b: Run['target']): number[] {
  const out: number[] = []
  for (let rep = 1; rep <= reps; rep++) {
    const x = find(runs, kind, rep, a)
    const y = find(runs, kind, rep, b)
    if (x !== undefined && y !== undefined) out.push(f(x, y))
  }
  return out
}

/** Medians per target, gateway/target ratios per repetition, added latency at the fixed rate. */
export function summarise (runs: readonly Run[], reps: number, rate: number): Summary {
  const saturation: Summary['saturation'] = {}
  const ratios: Record<string, Ratio> = {}
  const cpu = (r: Run): number => r.proxyCpuUsPerReq ?? Number.NaN
  for (const target of TARGET_NAMES) {
    const mine = runs.filter((r) => r.kind === 'saturation' && r.target === target)
    if (mine.length === 0) continue
    saturation[target] = {
      rps: median(mine.map((r) => r.load.rps)),
      p50Ms: median(mine.map((r) => r.load.p50Ms)),
      p99Ms: median(mine.map((r) => r.load.p99Ms)),
      proxyCpuUsPerReq: median(mine.map(cpu)),
      upstreamCpuUsPerReq: median(mine.map((r) => r.upstreamCpuUsPerReq)),
      peakRssMb: Math.max(...mine.map((r) => (r.proxyHwmKb ?? Number.NaN) / 1024))
    }
    if (target === 'gateway') continue
    const rpsRatios = perRep(runs, 'saturation', reps, (a, b) => a.load.rps / b.load.rps, 'gateway', target)
    const cpuRatios = perRep(runs, 'saturation', reps, (a, b) => cpu(a) / cpu(b), 'gateway', target).filter(Number.isFinite)
    ratios[target] = { rps: rpsRatios, cpuPerReq: cpuRatios, medianRps: median(rpsRatios), medianCpuPerReq: median(cpuRatios) }
  }
  const addedP50Ms = perRep(runs, 'fixed-rate', reps, (a, b) => a.load.p50Ms - b.load.p50Ms, 'gateway', 'direct')
  const addedP99Ms = perRep(runs, 'fixed-rate', reps, (a, b) => a.load.p99Ms - b.load.p99Ms, 'gateway', 'direct')
  return {
    saturation,
    ratios,
    fixedRate: { rate, sustained: runs.every((r) => r.kind !== 'fixed-rate' || r.load.rps >= 0.95 * rate), addedP50Ms, addedP99Ms, medianAddedP50Ms: median(addedP50Ms), medianAddedP99Ms: median(addedP99Ms) }
  }
}

const fmt = (n: number | undefined, digits = 2): string => n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits)

const conns = (r: Run): string => r.newUpstreamConnections === undefined ? '-' : String(r.newUpstreamConnections)

function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** The saturation table: one row per repetition and target. */
export function saturationTable (runs: readonly Run[]): string {
  const rows = runs.filter((r) => r.kind === 'saturation').map((r) => [
    String(r.rep), r.target, r.load.tool, fmt(r.load.rps, 0), fmt(r.load.p50Ms), fmt(r.load.p99Ms),
    fmt(r.proxyCpuUsPerReq, 1), fmt(r.proxyCpuPercent, 0), fmt(r.upstreamCpuUsPerReq, 1),
    r.proxyRssKb === undefined ? '-' : fmt(r.proxyRssKb / 1024, 1), conns(r), String(r.load.non2xx), String(r.load.errors)
  ])
  return table(['rep', 'target', 'tool', 'req/s', 'p50 ms', 'p99 ms', 'proxy µs/req', 'proxy CPU%', 'upstream µs/req', 'proxy RSS MB',
    'new conns', 'non2xx', 'errors'], rows)
}

/** The fixed-rate table: achieved rate and latency per repetition and target. */
export function fixedRateTable (runs: readonly Run[]): string {
  const rows = runs.filter((r) => r.kind === 'fixed-rate').map((r) => [
    String(r.rep), r.target, fmt(r.load.rps, 0), fmt(r.load.p50Ms, 3), fmt(r.load.p99Ms, 3),
    fmt(r.proxyCpuUsPerReq, 1), fmt(r.proxyCpuPercent, 0), conns(r), String(r.load.non2xx), String(r.load.errors)
  ])
  return table(['rep', 'target', 'req/s', 'p50 ms', 'p99 ms', 'proxy µs/req', 'proxy CPU%', 'new conns', 'non2xx', 'errors'], rows)
}

/** The peer table: medians per target, the gateway's ratio to each (req/s, CPU per request), peak RSS. */
export function peerTable (s: Summary): string {
  const rows = Object.entries(s.saturation).map(([target, m]) => {
    const r = s.ratios[target]
    return [target, fmt(m.rps, 0), fmt(m.proxyCpuUsPerReq, 1), fmt(m.peakRssMb, 1), fmt(m.p50Ms), fmt(m.p99Ms),
      target === 'gateway' ? '1' : fmt(r?.medianRps), target === 'gateway' ? '1' : fmt(r?.medianCpuPerReq),
      r === undefined ? '-' : r.rps.map((x) => fmt(x)).join(' ')]
  })
  return table(['target', '', 'req/s', 'CPU µs/req', 'peak RSS MB', 'p50 ms', 'p99 ms', 'gateway/it req/s', 'gateway/it CPU/req', 'req/s ratio per rep'],
    rows.map((r) => [r[0]!, '', ...r.slice(1)]))
}

/** The closing lines: added latency at the fixed rate, the gateway's RSS. */
export function summaryText (s: Summary, peakRssKb: number, idleRssKb: number): string {
  const list = (xs: number[], d = 2): string => xs.map((x) => fmt(x, d)).join(', ')
  const lines = ['medians at saturation (CPU µs/req: the proxy\'s utime+stime / requests; peak RSS: VmHWM; ratios: gateway / that target, per repetition then median):']
  lines.push(peerTable(s))
  lines.push(`added by the gateway at ${s.fixedRate.rate} req/s: p50 ${list(s.fixedRate.addedP50Ms, 3)} ms (median ${fmt(s.fixedRate.medianAddedP50Ms, 3)})` +
    `, p99 ${list(s.fixedRate.addedP99Ms, 3)} ms (median ${fmt(s.fixedRate.medianAddedP99Ms, 3)})`)
  if (!s.fixedRate.sustained) {
    lines.push(`  warning: a target did not sustain ${s.fixedRate.rate} req/s (see the table): its latency includes queueing; try a lower BENCH_RATE`)
  }
  lines.push(`gateway RSS: ${fmt(idleRssKb / 1024, 1)} MB idle after start, peak (VmHWM) ${fmt(peakRssKb / 1024, 1)} MB`)
  return lines.join('\n')
}

/** The baseline (BENCH_BASELINE) as the results JSON keeps it: which commit, and its gateway process's RSS. */
export interface BaselineResult {
  readonly ref: string
  readonly sha: string
  readonly peakRssKb: number
  readonly idleRssKb: number
}

/**
 * The before/after lines: gateway / baseline req/s and CPU per request (the median of the per-repetition
 * ratios, then each repetition's), and both processes' peak and idle RSS.
 */
export function baselineComparison (s: Summary, baseline: BaselineResult, gateway: { peakRssKb: number, idleRssKb: number }): string {
  const r = s.ratios.baseline
  const times = (xs: readonly number[] = []): string => xs.length === 0 ? '-' : xs.map((x) => `×${fmt(x)}`).join(' ')
  const mb = (kb: number): string => fmt(kb / 1024, 1)
  return [
    `gateway vs baseline (${baseline.ref} = ${baseline.sha.slice(0, 7)}): req/s ×${fmt(r?.medianRps)}, CPU µs/req ×${fmt(r?.medianCpuPerReq)}, ` +
      `peak RSS ${mb(gateway.peakRssKb)} vs ${mb(baseline.peakRssKb)} MB`,
    `  per repetition: req/s ${times(r?.rps)}; CPU µs/req ${times(r?.cpuPerReq)}; idle RSS ${mb(gateway.idleRssKb)} vs ${mb(baseline.idleRssKb)} MB`
  ].join('\n')
}
