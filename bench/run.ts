import { execFileSync, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname } from 'node:path'
import { BASELINE_DIR, buildBaseline, type BaselineBuild } from './baseline.js'
import { measure, problemsOf, type Run } from './measure.js'
import { readOptions, type BenchOptions } from './options.js'
import { procAvailable, readProc } from './procstat.js'
import { baselineComparison, fixedRateTable, saturationTable, summarise, summaryText, type BaselineResult } from './report.js'
import { runTenantScale } from './scale-step.js'
import { bigResponseTable, runBigResponse, type BigResponseResult } from './big-response.js'
import { sibling } from './sibling.js'
import type { TenantScaleResult } from './tenant-scale.js'
import { runTenantRequests, type TenantRequestsResult } from './tenant-requests.js'
import { scrapeMetrics, startBenchWorld, type BenchWorld, type Target } from './world.js'

/** `npm run bench`: direct, nginx, HAProxy, bare Node, fastify + http-proxy and the gateway, interleaved, then a fixed-rate latency comparison, then tenant-scale. */

function pinSelf (opts: BenchOptions): void {
  if (opts.cpus.taskset === undefined || opts.cpus.load === undefined) return
  execFileSync(opts.cpus.taskset, ['-a', '-pc', String(opts.cpus.load), String(process.pid)], { stdio: 'ignore' })
}

function header (opts: BenchOptions, world: BenchWorld, logFile: string): string {
  const lines = [
    `defender-gateway bench: node ${process.version}, ${opts.cpuCount} CPU (${cpus()[0]?.model ?? '?'})`,
    `  ${opts.reps} repetitions x ${opts.durationSec}s, ${opts.connections} connections, warm-up ${opts.warmupSec}s (up to ${opts.warmupRounds}x until no new upstream connection) before each run; fixed rate ${opts.rate} req/s`,
    `  load generator at saturation: ${opts.wrk === undefined ? 'autocannon (wrk not on PATH, or BENCH_LOADGEN=autocannon)' : `wrk (${opts.wrk})`}; at the fixed rate: bench/paced.ts`,
    `  ${opts.cpus.note}`,
    `  targets: ${world.targets.map((t) => t.name).join(', ')}; gateway logs (info) -> ${logFile}`,
    ...(world.baseline === undefined
      ? []
      : [`  baseline: ${world.baseline.ref} = ${world.baseline.sha} (BENCH_BASELINE), compiled in ${BASELINE_DIR}; its gateway gets the gateway's config, log file and CPU`]),
    ...world.notes.map((n) => `  note: ${n}`)
  ]
  if (!procAvailable()) lines.push('  note: /proc is not readable here: CPU and RSS columns are empty')
  const load1 = loadavg()[0] ?? 0
  if (load1 > 0.5) lines.push(`  note: load average ${load1.toFixed(2)} at start: other processes are using CPU and will skew the numbers`)
  return lines.join('\n')
}

async function measureAll (opts: BenchOptions, world: BenchWorld, say: (s: string) => void): Promise<Run[]> {
  const runs: Run[] = []
  const record = (run: Run): void => {
    runs.push(run)
    const l = run.load
    const conns = run.newUpstreamConnections === undefined ? '' : `, ${run.newUpstreamConnections} new upstream connections`
    say(`  ${run.kind} rep ${run.rep} ${run.target}: ${l.rps.toFixed(0)} req/s, p50 ${l.p50Ms.toFixed(3)} ms, ` +
      `p99 ${l.p99Ms.toFixed(3)} ms, ${l.non2xx} non-2xx, ${l.errors} errors${conns}`)
  }
  // A warm-up before every measured run: the upstream closes idle keep-alive connections after 5 s (node's
  // default) while other targets run, and each new one costs the gateway a TLS handshake. For the gateway the
  // warm-up repeats (bounded) until one opens no new upstream connection, so runs measure the steady state;
  // the warm-up rows (printed and in the JSON) show the cold cost.
  const warm = async (t: Target, rep: number): Promise<void> => {
    for (let round = 1; opts.warmupSec > 0 && round <= opts.warmupRounds; round++) {
      const run = await measure(opts, t, world.upstreamPids, 'warmup', rep, opts.warmupSec)
      record(run)
      if ((run.newUpstreamConnections ?? 0) === 0) return
    }
  }
  for (let rep = 1; rep <= opts.reps; rep++) {
    // rotate the order each repetition so no target always runs first (or right after another)
    const order = world.targets.map((_, i) => world.targets[(i + rep - 1) % world.targets.length]!)
    for (const t of order) {
      await warm(t, rep)
      record(await measure(opts, t, world.upstreamPids, 'saturation', rep, opts.durationSec))
    }
  }
  const paced = world.targets.filter((t) => t.name === 'direct' || t.name === 'baseline' || t.name === 'gateway')
  for (let rep = 1; opts.rate > 0 && rep <= opts.reps; rep++) {
    const order = rep % 2 === 1 ? paced : [...paced].reverse()
    for (const t of order) {
      await warm(t, rep)
      record(await measure(opts, t, world.upstreamPids, 'fixed-rate', rep, opts.durationSec, opts.rate))
    }
  }
  return runs
}

/**
 * `server.workers` scaling (bench/workers.ts) in a process of its own, on every CPU: run.ts pinned
 * itself to one, and a second worker needs a second. Its report goes straight to stdout.
 */
async function runWorkerScaling (opts: BenchOptions): Promise<boolean> {
  const { file, execArgv } = sibling('./workers.ts', import.meta.url)
  const [command, args] = opts.cpus.taskset === undefined
    ? [process.execPath, [...execArgv, file]]
    : [opts.cpus.taskset, ['-c', `0-${opts.cpuCount - 1}`, process.execPath, ...execArgv, file]]
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] })
  return await new Promise((resolve) => {
    child.once('error', () => resolve(false))
    child.once('exit', (code) => resolve(code === 0))
  })
}

async function main (): Promise<number> {
  const opts = readOptions()
  const say = (s: string): void => { process.stdout.write(`${s}\n`) }
  const logFile = process.env.BENCH_LOG_FILE ?? '/dev/null'
  let baseline: BaselineBuild | undefined
  if (opts.baseline !== undefined) {
    // before pinning: tsc then has every CPU
    say(`building the baseline ${opts.baseline} in ${BASELINE_DIR} ...`)
    try {
      baseline = await buildBaseline(opts.baseline)
    } catch (err) {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`)
      return 1
    }
  }
  pinSelf(opts)
  const world = await startBenchWorld(opts, logFile, baseline)
  const onSignal = (): void => { world.close().finally(() => process.exit(130)) }
  process.once('SIGINT', onSignal)
  let runs: Run[]
  let metrics: Record<string, number>
  let peakRssKb: number
  let baselineResult: BaselineResult | undefined
  let bigResponse: BigResponseResult | undefined
  let bigProblem: string | undefined
  try {
    say(header(opts, world, logFile))
    runs = await measureAll(opts, world, say)
    metrics = await scrapeMetrics(world.adminUrl)
    peakRssKb = readProc(world.gatewayPid).hwmKb
    // read with the gateway's, before the parts the baseline has no share in
    if (world.baseline !== undefined) {
      const { ref, sha, pid, idleRssKb } = world.baseline
      baselineResult = { ref, sha, peakRssKb: readProc(pid).hwmKb, idleRssKb }
    }
    if (process.env.BENCH_BIG_RESPONSE !== '0') {
      say('\nbig response: 32 and 200 MB export pages, plain and gzip, through the gateway and nginx to a caller slower than Defender (BENCH_BIG_RESPONSE=0 skips it) ...')
      bigResponse = await runBigResponse(world, opts).catch((err: Error) => { bigProblem = `big response failed: ${err.message}`; return undefined })
    }
  } finally {
    process.removeListener('SIGINT', onSignal)
    await world.close()
  }
  const summary = summarise(runs, opts.reps, opts.rate)
  const problems = runs.map(problemsOf).filter((p): p is string => p !== undefined)
  if (bigProblem !== undefined) problems.push(bigProblem)
  let tenantScale: TenantScaleResult | undefined
  if (opts.tenantScale !== undefined) {
    say(`\ntenant-scale: ${opts.tenantScale} tenants (BENCH_TENANTS; BENCH_TENANT_SCALE=0 skips it) ...`)
    tenantScale = await runTenantScale(opts).catch((err: Error) => { problems.push(`tenant-scale failed: ${err.message}`); return undefined })
  }
  let tenantRequests: TenantRequestsResult | undefined
  if (opts.tenantScale !== undefined) {
    say(`\ntenant requests: ${opts.tenantScale} tenants through the whole gateway vs one (BENCH_TENANT_SCALE=0 skips it) ...`)
    tenantRequests = await runTenantRequests(opts).catch((err: Error) => { problems.push(`tenant requests failed: ${err.message}`); return undefined })
    if (tenantRequests !== undefined) problems.push(...tenantRequests.problems)
  }
  say('\nsaturation (req/s is completed requests / run time; µs/req is utime+stime from /proc / requests)')
  say(saturationTable(runs))
  say(`\nfixed rate ${opts.rate} req/s (evenly paced, open loop, up to ${opts.rateConnections} keep-alive connections; latency from the scheduled start)`)
  say(fixedRateTable(runs))
  say('')
  say(summaryText(summary, peakRssKb, world.gatewayIdleRssKb))
  if (baselineResult !== undefined) say(baselineComparison(summary, baselineResult, { peakRssKb, idleRssKb: world.gatewayIdleRssKb }))
  say(`gateway metrics: requests ${metrics.defender_gateway_requests_total ?? '?'}, token cache hits ${metrics.defender_gateway_token_cache_hits_total ?? '?'}, ` +
    `token acquisitions ${metrics.defender_gateway_token_acquisitions_total ?? '?'}, policy denials ${metrics.defender_gateway_policy_denials_total ?? 0}`)
  if (bigResponse !== undefined) {
    say('\nbig answers (a caller reading at most 64 KiB per ms; RSS of the proxy process(es), MB)')
    say(bigResponseTable(bigResponse))
  }
  if (tenantScale !== undefined) say(tenantScale.lines.join('\n'))
  if (tenantRequests !== undefined) say(tenantRequests.lines.join('\n'))
  if (process.env.BENCH_WORKERS !== '0') {
    say('\nserver.workers scaling (BENCH_WORKERS=0 skips it) ...')
    if (!await runWorkerScaling(opts)) problems.push('server.workers scaling failed (see above)')
  }
  const valid = problems.length === 0
  say(valid ? 'valid: every request answered 2xx' : `INVALID: requests failed:\n  ${problems.join('\n  ')}`)
  const { cpus: layout, ...settings } = opts
  const json = { at: new Date().toISOString(), node: process.version, cpus: opts.cpuCount, layout: layout.note, settings, valid, problems, summary, peakRssKb, idleRssKb: world.gatewayIdleRssKb, baseline: baselineResult, metrics, bigResponse, tenantScale, tenantRequests, runs }
  await mkdir(dirname(opts.resultsFile), { recursive: true })
  await writeFile(opts.resultsFile, JSON.stringify(json, null, 2) + '\n')
  say(`results written to ${opts.resultsFile}`)
  return valid ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
