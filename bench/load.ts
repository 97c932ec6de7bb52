import { spawn } from 'node:child_process'
import autocannon from 'autocannon'
import { pinned, type CpuLayout } from './options.js'
import { runPaced } from './paced.js'

/** One load run against one target. */
export interface LoadSpec {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly durationSec: number
  readonly connections: number
  /** fixed overall rate (req/s, evenly paced by paced.ts); saturation when absent */
  readonly rate?: number
  /** wrk binary for saturation runs; autocannon when absent (fixed-rate runs always use autocannon) */
  readonly wrk?: string | undefined
  readonly cpus: CpuLayout
}

/** What one run measured. Latencies in milliseconds, of 2xx responses. */
export interface LoadResult {
  readonly tool: 'autocannon' | 'wrk' | 'paced'
  readonly requests: number
  readonly non2xx: number
  readonly errors: number
  readonly durationSec: number
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
}

const MAX_SAMPLES = 5_000_000

/** Runs one load test: paced at a fixed rate, else wrk (when installed) or autocannon at saturation. */
export async function runLoad (spec: LoadSpec): Promise<LoadResult> {
  if (spec.rate !== undefined) return await runPaced({ ...spec, rate: spec.rate })
  if (spec.wrk !== undefined) return await runWrk(spec, spec.wrk)
  return await runAutocannon(spec)
}

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

async function runAutocannon (spec: LoadSpec): Promise<LoadResult> {
  // autocannon's own histogram keeps whole milliseconds; the response event has hrtime precision.
  const samples: number[] = []
  const instance = autocannon({
    url: spec.url,
    headers: { ...spec.headers },
    connections: spec.connections,
    duration: spec.durationSec,
    timeout: 10
  })
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300 && samples.length < MAX_SAMPLES) samples.push(ms)
  })
  const r = await instance
  const sorted = Float64Array.from(samples).sort()
  const requests = r['2xx'] + r.non2xx
  return {
    tool: 'autocannon',
    requests,
    non2xx: r.non2xx,
    errors: r.errors + r.resets,
    durationSec: r.duration,
    rps: requests / r.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99)
  }
}

async function runWrk (spec: LoadSpec, wrk: string): Promise<LoadResult> {
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationSec}s`, '--latency', '--timeout', '10s']
  for (const [k, v] of Object.entries(spec.headers)) args.push('-H', `${k}: ${v}`)
  args.push(spec.url)
  const [command, argv] = pinned(spec.cpus, spec.cpus.load, wrk, args)
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { text += c })
    const timer = setTimeout(() => child.kill('SIGKILL'), (spec.durationSec + 30) * 1000)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(text)
      else reject(new Error(`wrk exited with ${String(code)}: ${text}`))
    })
  })
  return parseWrk(out, spec.durationSec)
}

function toMs (value: string, unit: string): number {
  const n = Number.parseFloat(value)
  if (unit === 'us') return n / 1000
  if (unit === 's') return n * 1000
  if (unit === 'm') return n * 60_000
  return n
}

/** Parses `wrk --latency` output (50% and 99% lines, totals, non-2xx and socket errors). */
export function parseWrk (out: string, durationSec: number): LoadResult {
  const lat = (pct: string): number => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out)
    return m === null ? Number.NaN : toMs(m[1]!, m[2]!)
  }
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out)
  const requests = total === null ? 0 : Number(total[1])
  const seconds = total === null ? durationSec : toMs(total[2]!, total[3]!) / 1000
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const errors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0)
  if (total === null) throw new Error(`could not read wrk output: ${out}`)
  return { tool: 'wrk', requests, non2xx, errors, durationSec: seconds, rps: requests / seconds, p50Ms: lat('50'), p99Ms: lat('99') }
}
