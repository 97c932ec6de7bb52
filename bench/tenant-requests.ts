import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { keyHash } from '../src/callers/authenticate.js'
import type { GatewayInit, GatewayMemory, GatewayReady, GatewayStats } from './gateway-process.js'
import { parseWrk, type LoadResult } from './load.js'
import { startStaticUpstream } from './nginx.js'
import { pinned, readOptions, type BenchOptions } from './options.js'
import { readProc, readProcs } from './procstat.js'
import type { UpstreamInit, UpstreamReady } from './upstream-process.js'
import { startWorker, type Worker } from './worker.js'
import { REQUEST_PATH, scrapeMetrics } from './world.js'

/**
 * `npx tsx bench/tenant-requests.ts`: the whole request at MSSP scale. One gateway (its own process, pinned
 * like the main bench) configured with TENANTS tenants (default 10,000) in front of the simulated Entra ID +
 * Defender (another process, which grants every tenant):
 *   1. tenant 0 warmed → settled RSS (after GC) `rssOne`;
 *   2. wrk against tenant 0 → req/s and the gateway's CPU µs per request (/proc utime+stime / requests);
 *   3. every tenant warmed with one request (64 concurrent) → token requests, settled RSS `rssMany`;
 *   4. wrk rotating over every tenant's path (Lua) → req/s and CPU µs per request;
 *   5. 2 and 4 repeated alternately (BENCH_REPS, default 3); medians, ratios many/one.
 * Defender's side of the requests is nginx serving one static alerts page over TLS when nginx is installed
 * (as in the main bench: the simulated Defender verifies a JWT and builds the page per request on the CPU it
 * shares with wrk, so it, not the gateway, would set the pace, and its cost differs between one tenant and
 * many), else the simulated Defender; BENCH_TENANT_UPSTREAM=sim forces the latter.
 * A gateway with only tenant 0 configured is measured first, for the RSS the configured tenants cost before
 * any of them is used. Every answer, warm-ups included, must be 2xx (exit code 1 otherwise). Env: TENANTS,
 * BENCH_TENANT_UPSTREAM, TENANT_REQUESTS_RESULTS (JSON written there, default .bench/tenant-requests.json)
 * and the BENCH_* of options.ts (BENCH_DURATION, BENCH_CONNECTIONS, BENCH_REPS, BENCH_WARMUP,
 * BENCH_GATEWAY_NODE_ARGS, ...).
 */

/** One wrk run against the gateway: tenant 0 only, or rotating over every tenant. */
export interface TenantRun {
  readonly kind: 'one' | 'many'
  readonly phase: 'warmup' | 'measured'
  readonly rep: number
  readonly load: LoadResult
  /** gateway user+system CPU per completed request, µs */
  readonly gatewayUsPerReq: number
  /** gateway CPU time / wall time, percent of one core */
  readonly gatewayCpuPercent: number
  readonly upstreamUsPerReq: number
  /** upstream connections the gateway opened during the run (each a TLS handshake) */
  readonly newUpstreamConnections: number
  /** when wrk started and ended, CLOCK_MONOTONIC µs: the clock of --cpu-prof's timestamps, to cut a profile per run */
  readonly startUs: number
  readonly endUs: number
}

/** Settled memory of the gateway process, MB. */
export interface MemoryMb {
  readonly rss: number
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
}

/** What one tenant-requests run measured. */
export interface TenantRequestsResult {
  readonly tenants: number
  readonly upstream: Upstream
  readonly durationSec: number
  readonly connections: number
  readonly reps: number
  /** a gateway with only tenant 0 configured, tenant 0 warmed */
  readonly baseline: MemoryMb
  /** the N-tenant gateway before any request */
  readonly idle: MemoryMb
  readonly one: MemoryMb
  readonly many: MemoryMb
  /** after every run */
  readonly manyAfterRuns: MemoryMb
  readonly extraRssMb: number
  readonly extraHeapMb: number
  /** RSS the N configured (not yet used) tenants cost: `one` minus `baseline` */
  readonly configRssMb: number
  readonly warmSec: number
  /** the gateway's peak RSS (VmHWM) once every tenant was warmed, MB: the warm-up's own high-water mark */
  readonly warmPeakRssMb: number
  readonly warmTokenRequests: number
  /** token requests while the wrk runs went on (0 when every tenant's token stayed cached) */
  readonly runTokenRequests: number
  readonly usPerReqOne: number
  readonly usPerReqMany: number
  readonly cpuRatio: number
  /** the same from the cheapest measured run of each kind (interference from other processes only adds) */
  readonly usPerReqOneMin: number
  readonly usPerReqManyMin: number
  readonly rpsOne: number
  readonly rpsMany: number
  readonly rpsRatio: number
  readonly runs: readonly TenantRun[]
  /** 1-minute load average when the run started (another benchmark running skews everything) */
  readonly loadAtStart: number
  /** why the run is invalid (non-2xx, errors); empty when valid */
  readonly problems: readonly string[]
  readonly lines: readonly string[]
}

/** What answers the gateway's Defender requests: nginx with a static page, or the simulated Defender. */
export type Upstream = 'static' | 'sim'

export interface TenantRequestsOptions {
  /** default: 'static' when nginx is installed, else 'sim' */
  readonly upstream?: Upstream
  /** default: BENCH_TENANTS (opts.tenantScale), else 10,000 */
  readonly tenants?: number
  /** progress lines while it runs */
  readonly say?: (line: string) => void
  /** where the gateway's info logs go; default /dev/null */
  readonly logFile?: string
}

const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
const ROLES = ['Alert.Read.All', 'Machine.Read.All', 'Ti.ReadWrite', 'AdvancedQuery.Read.All', 'Software.Read.All']
const WARM_CONCURRENCY = 64
const WARM_REQUEST_TIMEOUT_MS = 30_000
/** requests to tenant 0 before the first measurement (besides a wrk warm-up) */
const FIRST_REQUESTS = 200
const MB = 1024 * 1024

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: readonly number[]): number => xs.length === 0 ? Number.NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const mb = (m: GatewayMemory): MemoryMb => ({ rss: m.rss / MB, heapUsed: m.heapUsed / MB, heapTotal: m.heapTotal / MB, external: m.external / MB })
const tenantPath = (id: string): string => `/tenants/${id}${REQUEST_PATH}`

/** Children and files of the run in progress, released by `cleanUp` (also on SIGINT when run directly). */
const live = { stops: [] as Array<() => Promise<void>>, wrk: new Set<ChildProcess>() }

async function cleanUp (): Promise<void> {
  for (const child of live.wrk) child.kill('SIGKILL')
  live.wrk.clear()
  for (const stop of live.stops.splice(0).reverse()) await stop().catch(() => {})
}

/** One alert and an absolute nextLink back to the upstream (which the gateway rewrites), as Defender pages. */
function staticPage (base: string): string {
  return JSON.stringify({
    '@odata.context': `${base}/api/$metadata#Alerts`,
    value: [{ id: 'da637000000000000000_1', severity: 'Medium', status: 'New', title: 'Simulated alert 1', machineId: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07', alertCreationTime: '2026-11-28T10:00:00Z' }],
    '@odata.nextLink': `${base}/api/alerts?$top=1&$skip=1`
  })
}

function gatewayConfig (up: UpstreamReady, regionUrl: string, tenants: readonly string[], apiKey: string): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, drainDelayMs: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    identity: { clientId: CLIENT_ID, secret: { fromEnv: 'BENCH_CLIENT_SECRET' }, authorityHost: up.entraUrl },
    trust: { caFile: up.caFile },
    upstream: { region: 'auto', regions: { [up.regionName]: regionUrl } },
    logging: { level: 'info' },
    // as bench/world.ts: budgets taken on every request, with no window
    limits: { classes: { default: { perMinute: null, perHour: null } } },
    tenants: tenants.map((id, i) => ({ id, name: `t${i}`, permissions: ROLES })),
    clients: [{ name: 'siem', keySha256: keyHash(apiKey), tenants: ['*'], permissions: ['Alert.Read.All', 'Machine.Read.All', 'Software.Read.All'] }]
  }
}

/** The wrk script: reads its paths from a file (any number of them), rotates over them in order. */
function luaScript (pathsFile: string, apiKey: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(apiKey) || /["\\\n]/.test(pathsFile)) throw new Error('unexpected characters for the wrk script')
  return `-- generated by bench/tenant-requests.ts
local reqs = {}
local n = 0
local i = 0
init = function(args)
  wrk.headers["X-API-Key"] = "${apiKey}"
  for path in io.lines("${pathsFile}") do
    n = n + 1
    reqs[n] = wrk.format("GET", path)
  end
  if n == 0 then error("no paths in ${pathsFile}") end
end
request = function()
  i = i % n + 1
  return reqs[i]
end
`
}

/** Sends one request per path (bounded concurrency, keep-alive); counts what was not 2xx. */
async function warmPaths (baseUrl: string, paths: readonly string[], apiKey: string, concurrency: number): Promise<{ seconds: number, problems: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const problems: string[] = []
  let failed = 0
  let next = 0
  const started = process.hrtime.bigint()
  const one = async (path: string): Promise<void> => {
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = request(baseUrl + path, { agent, headers: { 'x-api-key': apiKey }, timeout: WARM_REQUEST_TIMEOUT_MS }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { if (body.length < 500) body += c })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`no answer in ${WARM_REQUEST_TIMEOUT_MS} ms`)))
      req.on('error', reject)
      req.end()
    }).catch((err: Error) => ({ status: 0, body: err.message }))
    if (answer.status >= 200 && answer.status < 300) return
    failed++
    if (problems.length < 3) problems.push(`warm-up ${path}: ${answer.status === 0 ? 'error' : answer.status} ${answer.body.slice(0, 200)}`)
  }
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, async () => {
      while (next < paths.length) await one(paths[next++]!)
    }))
  } finally {
    agent.destroy()
  }
  if (failed > problems.length) problems.push(`warm-up: ${failed} of ${paths.length} requests failed in all`)
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, problems }
}

/** Runs wrk (pinned to the load CPU) with the rotation script; bounded by its duration + 30 s. */
async function runWrk (opts: BenchOptions, wrk: string, baseUrl: string, script: string, durationSec: number): Promise<LoadResult> {
  const args = ['-t1', `-c${opts.connections}`, `-d${durationSec}s`, '--latency', '--timeout', '10s', '-s', script, baseUrl + '/']
  const [command, argv] = pinned(opts.cpus, opts.cpus.load, wrk, args)
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    live.wrk.add(child)
    let text = ''
    let errText = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => { text += c })
    child.stderr.setEncoding('utf8').on('data', (c: string) => { errText += c })
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationSec + 30) * 1000)
    child.once('error', (err) => { clearTimeout(timer); live.wrk.delete(child); reject(err) })
    child.once('exit', (code) => {
      clearTimeout(timer)
      live.wrk.delete(child)
      if (code === 0 && errText.trim() === '') resolve(text)
      else reject(new Error(`wrk exited with ${String(code)}: ${text}${errText}`))
    })
  })
  return parseWrk(out, durationSec)
}

/** Full collections in the gateway (it runs with --expose-gc), twice with a pause, then its memory. */
async function settle (gateway: Worker<GatewayReady>): Promise<MemoryMb> {
  await sleep(500)
  await gateway.query<GatewayMemory>('gc')
  await sleep(500)
  const m = await gateway.query<GatewayMemory>('gc')
  if (!m.gcExposed) throw new Error('the gateway has no global.gc (--expose-gc): RSS would not be settled')
  return mb(m)
}

async function tokenAcquisitions (adminUrl: string): Promise<number> {
  return (await scrapeMetrics(adminUrl)).defender_gateway_token_acquisitions_total ?? 0
}

function describeRun (r: TenantRun): string {
  const l = r.load
  return `${r.phase === 'warmup' ? 'warm-up ' : ''}rep ${r.rep} ${r.kind === 'one' ? '1 tenant' : 'N tenants'}: ${l.rps.toFixed(0)} req/s, ` +
    `gateway ${r.gatewayUsPerReq.toFixed(1)} µs/req (${r.gatewayCpuPercent.toFixed(0)}% of a core), upstream ${r.upstreamUsPerReq.toFixed(1)} µs/req, ` +
    `p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms, ${l.non2xx} non-2xx, ${l.errors} errors, ${r.newUpstreamConnections} new upstream connections`
}

/**
 * Runs the whole measurement (see the comment at the top) and stops every process it started, also when
 * it fails. Needs wrk: the rotation over every tenant is a wrk Lua script.
 */
export async function runTenantRequests (opts: BenchOptions, options: TenantRequestsOptions = {}): Promise<TenantRequestsResult> {
  const wrk = opts.wrk
  if (wrk === undefined) throw new Error('bench/tenant-requests.ts needs wrk on PATH (apt-get install wrk); BENCH_LOADGEN=autocannon is not supported here')
  const n = options.tenants ?? opts.tenantScale ?? 10_000
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new Error(`tenants: ${n}: must be an integer from 1 to 1,000,000`)
  const say = options.say ?? (() => {})
  const mode: Upstream = options.upstream ?? (opts.nginx === undefined ? 'sim' : 'static')
  const logFile = options.logFile ?? '/dev/null'
  const ids = Array.from({ length: n }, () => randomUUID())
  const secret = `bench-secret-${randomBytes(12).toString('hex')}`
  const apiKey = `gk_${randomBytes(24).toString('base64url')}`
  const problems: string[] = []
  const runs: TenantRun[] = []
  const loadAtStart = loadavg()[0] ?? 0
  const dir = await mkdtemp(join(tmpdir(), 'defender-bench-tenants-'))
  live.stops.push(async () => { await rm(dir, { recursive: true, force: true }) })
  try {
    const upInit: UpstreamInit = { clientId: CLIENT_ID, clientSecret: secret, tenantId: ids[0]!, otherTenants: ids.slice(1), roles: ROLES, resetEveryMs: 100 }
    const upstream: Worker<UpstreamReady> = await startWorker('./upstream-process.ts', upInit, opts.cpus, opts.cpus.upstream)
    live.stops.push(upstream.stop)
    const up = upstream.ready
    let region = { url: up.regionUrl, pids: () => [upstream.pid] }
    if (mode === 'static') {
      if (opts.nginx === undefined) throw new Error('the static upstream needs nginx (apt-get install nginx-light); BENCH_TENANT_UPSTREAM=sim uses the simulated Defender')
      const stat = await startStaticUpstream({ binary: opts.nginx, ...up.staticCert, body: staticPage, cpus: opts.cpus })
      live.stops.push(stat.stop)
      region = { url: stat.url, pids: () => stat.pids() }
    }
    const scripts = { one: join(dir, 'one.lua'), many: join(dir, 'many.lua') }
    await writeFile(join(dir, 'one.txt'), tenantPath(ids[0]!) + '\n')
    await writeFile(join(dir, 'many.txt'), ids.map(tenantPath).join('\n') + '\n')
    await writeFile(scripts.one, luaScript(join(dir, 'one.txt'), apiKey))
    await writeFile(scripts.many, luaScript(join(dir, 'many.txt'), apiKey))

    const startGateway = async (tenants: readonly string[]): Promise<Worker<GatewayReady>> => {
      const init: GatewayInit = { config: gatewayConfig(up, region.url, tenants, apiKey), env: { BENCH_CLIENT_SECRET: secret }, logFile }
      const gw = await startWorker<GatewayReady>('./gateway-process.ts', init, opts.cpus, opts.cpus.proxy, ['--expose-gc', ...opts.gatewayNodeArgs])
      live.stops.push(gw.stop)
      return gw
    }
    /** One wrk run (warm-up or measured) with the gateway's and the upstream's CPU around it. */
    const measure = async (gw: Worker<GatewayReady>, kind: TenantRun['kind'], phase: TenantRun['phase'], rep: number, seconds: number): Promise<TenantRun> => {
      const connsBefore = (await gw.query<GatewayStats>('stats')).upstreamConnections
      const before = { gw: readProc(gw.pid), up: readProcs(region.pids()), at: process.hrtime.bigint() }
      const load = await runWrk(opts, wrk, gw.ready.url, scripts[kind], seconds)
      const end = process.hrtime.bigint()
      const wallUs = Number(end - before.at) / 1000
      const after = { gw: readProc(gw.pid), up: readProcs(region.pids()) }
      const connsAfter = (await gw.query<GatewayStats>('stats')).upstreamConnections
      const requests = Math.max(1, load.requests)
      const run: TenantRun = {
        kind,
        phase,
        rep,
        load,
        gatewayUsPerReq: (after.gw.cpuMicros - before.gw.cpuMicros) / requests,
        gatewayCpuPercent: 100 * (after.gw.cpuMicros - before.gw.cpuMicros) / wallUs,
        upstreamUsPerReq: (after.up.cpuMicros - before.up.cpuMicros) / requests,
        newUpstreamConnections: connsAfter - connsBefore,
        startUs: Number(before.at / 1000n),
        endUs: Number(end / 1000n)
      }
      runs.push(run)
      say(`  ${describeRun(run)}`)
      if (load.non2xx > 0 || load.errors > 0 || (phase === 'measured' && load.requests === 0)) {
        problems.push(`${phase} rep ${rep} ${kind}: ${load.requests} requests, ${load.non2xx} non-2xx, ${load.errors} errors`)
      }
      return run
    }
    /** Warm-ups (bounded) until one opens no upstream connection (the sim drops idle ones after 5 s), then a measured run. */
    const measured = async (gw: Worker<GatewayReady>, kind: TenantRun['kind'], rep: number): Promise<void> => {
      for (let round = 1; opts.warmupSec > 0 && round <= opts.warmupRounds; round++) {
        if ((await measure(gw, kind, 'warmup', rep, opts.warmupSec)).newUpstreamConnections === 0) break
      }
      await measure(gw, kind, 'measured', rep, opts.durationSec)
    }
    /** Tenant 0: some requests through the warm-up client (its connections, msal, JIT), then a wrk warm-up. */
    const warmFirst = async (gw: Worker<GatewayReady>, label: string): Promise<void> => {
      const w = await warmPaths(gw.ready.url, Array.from({ length: FIRST_REQUESTS }, () => tenantPath(ids[0]!)), apiKey, WARM_CONCURRENCY)
      problems.push(...w.problems.map((p) => `${label}: ${p}`))
      if (opts.warmupSec > 0) await measure(gw, 'one', 'warmup', 0, opts.warmupSec)
    }

    say(`tenant-requests: ${n} tenants, ${mode} upstream; baseline gateway with tenant 0 only ...`)
    const base = await startGateway([ids[0]!])
    await warmFirst(base, 'baseline')
    const baseline = await settle(base)
    await base.stop()
    live.stops.splice(live.stops.indexOf(base.stop), 1)

    say(`  gateway with ${n} tenants ...`)
    const gw = await startGateway(ids)
    const idle = await settle(gw)
    await warmFirst(gw, 'tenant 0')
    const one = await settle(gw)

    // 2. one tenant, before the others are warmed
    await measured(gw, 'one', 1)

    // 3. every tenant once, as a crowd of SIEM connectors would
    say(`  warming ${n} tenants (${WARM_CONCURRENCY} concurrent, one request each) ...`)
    const acquiredBefore = await tokenAcquisitions(gw.ready.adminUrl)
    const warm = await warmPaths(gw.ready.url, ids.map(tenantPath), apiKey, WARM_CONCURRENCY)
    problems.push(...warm.problems)
    const acquiredAfterWarm = await tokenAcquisitions(gw.ready.adminUrl)
    const warmPeakRssMb = readProc(gw.pid).hwmKb / 1024
    const many = await settle(gw)
    say(`  warmed in ${warm.seconds.toFixed(1)} s: ${acquiredAfterWarm - acquiredBefore} token requests; RSS ${one.rss.toFixed(1)} -> ${many.rss.toFixed(1)} MB`)

    // 4 + 5. N tenants, then both alternately (the order flips each repetition)
    await measured(gw, 'many', 1)
    for (let rep = 2; rep <= opts.reps; rep++) {
      const order: Array<TenantRun['kind']> = rep % 2 === 0 ? ['many', 'one'] : ['one', 'many']
      for (const kind of order) await measured(gw, kind, rep)
    }
    const runTokenRequests = await tokenAcquisitions(gw.ready.adminUrl) - acquiredAfterWarm
    const manyAfterRuns = await settle(gw)

    const pick = (kind: TenantRun['kind']): TenantRun[] => runs.filter((r) => r.phase === 'measured' && r.kind === kind)
    const usPerReqOne = median(pick('one').map((r) => r.gatewayUsPerReq))
    const usPerReqMany = median(pick('many').map((r) => r.gatewayUsPerReq))
    const rpsOne = median(pick('one').map((r) => r.load.rps))
    const rpsMany = median(pick('many').map((r) => r.load.rps))
    const result = {
      tenants: n,
      upstream: mode,
      durationSec: opts.durationSec,
      connections: opts.connections,
      reps: opts.reps,
      baseline,
      idle,
      one,
      many,
      manyAfterRuns,
      extraRssMb: many.rss - one.rss,
      extraHeapMb: many.heapUsed - one.heapUsed,
      configRssMb: one.rss - baseline.rss,
      warmSec: warm.seconds,
      warmPeakRssMb,
      warmTokenRequests: acquiredAfterWarm - acquiredBefore,
      runTokenRequests,
      usPerReqOne,
      usPerReqMany,
      cpuRatio: usPerReqMany / usPerReqOne,
      usPerReqOneMin: Math.min(...pick('one').map((r) => r.gatewayUsPerReq)),
      usPerReqManyMin: Math.min(...pick('many').map((r) => r.gatewayUsPerReq)),
      rpsOne,
      rpsMany,
      rpsRatio: rpsMany / rpsOne,
      runs,
      loadAtStart,
      problems
    }
    return { ...result, lines: report(result, opts) }
  } finally {
    await cleanUp()
  }
}

function report (r: Omit<TenantRequestsResult, 'lines'>, opts: BenchOptions): string[] {
  const m = (x: MemoryMb): string => `RSS ${x.rss.toFixed(1)} MB (heap used ${x.heapUsed.toFixed(1)} of ${x.heapTotal.toFixed(1)}, external ${x.external.toFixed(1)})`
  const measuredRuns = r.runs.filter((x) => x.phase === 'measured')
  return [
    `tenant-requests (node ${process.version}): ${r.tenants} tenants through the gateway; simulated Entra ID in another process; Defender: ` +
      (r.upstream === 'static' ? 'nginx serving one static alerts page over TLS' : 'the simulated Defender'),
    `  wrk -t1 -c${r.connections} -d${r.durationSec}s (Lua: tenant 0's path, or every tenant's in turn), ${r.reps} interleaved repetitions, medians; ${opts.cpus.note}`,
    ...(r.loadAtStart > 0.5 ? [`  note: load average ${r.loadAtStart.toFixed(2)} at start: other processes are using CPU and will skew the numbers`] : []),
    `  warm ${r.tenants} tenants (${WARM_CONCURRENCY} concurrent, one request each): ${r.warmTokenRequests} token requests in ${r.warmSec.toFixed(1)} s; ` +
      `peak RSS ${r.warmPeakRssMb.toFixed(1)} MB; token requests during the wrk runs: ${r.runTokenRequests}`,
    '  settled memory of the gateway (after full GCs):',
    `    gateway with tenant 0 only, tenant 0 warmed: ${m(r.baseline)}`,
    `    ${r.tenants} tenants configured, before any request: ${m(r.idle)}`,
    `    tenant 0 warmed: ${m(r.one)}  (configured tenants cost ${r.configRssMb.toFixed(1)} MB RSS over the baseline)`,
    `    all ${r.tenants} warmed: ${m(r.many)}`,
    `    -> extra ${r.extraRssMb.toFixed(1)} MB RSS, ${r.extraHeapMb.toFixed(1)} MB heap (${(r.extraHeapMb * MB / r.tenants).toFixed(0)} bytes per tenant) (target <= 60 MB); after the runs: ${m(r.manyAfterRuns)}`,
    `  gateway CPU per request (median): 1 tenant ${r.usPerReqOne.toFixed(1)} µs, ${r.tenants} tenants rotating ${r.usPerReqMany.toFixed(1)} µs -> ${r.cpuRatio.toFixed(3)}x (target <= 1.1x)`,
    `    cheapest run of each: ${r.usPerReqOneMin.toFixed(1)} µs vs ${r.usPerReqManyMin.toFixed(1)} µs -> ${(r.usPerReqManyMin / r.usPerReqOneMin).toFixed(3)}x`,
    `  req/s (median): 1 tenant ${r.rpsOne.toFixed(0)}, ${r.tenants} tenants ${r.rpsMany.toFixed(0)} -> ${r.rpsRatio.toFixed(3)}x`,
    '  measured runs:',
    ...measuredRuns.map((x) => `    ${describeRun(x)}`),
    r.problems.length === 0 ? '  valid: every request answered 2xx' : `  INVALID:\n    ${r.problems.join('\n    ')}`
  ]
}

function runDirectly (): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (runDirectly()) {
  const opts = readOptions()
  const tenants = Number(process.env.TENANTS ?? 10_000)
  const upstream = process.env.BENCH_TENANT_UPSTREAM
  if (upstream !== undefined && upstream !== 'sim' && upstream !== 'static') throw new Error(`BENCH_TENANT_UPSTREAM=${upstream}: must be sim or static`)
  const say = (s: string): void => { process.stderr.write(`${s}\n`) }
  process.once('SIGINT', () => { cleanUp().finally(() => process.exit(130)) })
  const resultsFile = process.env.TENANT_REQUESTS_RESULTS ?? '.bench/tenant-requests.json'
  runTenantRequests(opts, { tenants, say, ...(upstream === undefined ? {} : { upstream }), logFile: process.env.BENCH_LOG_FILE ?? '/dev/null' }).then(async (result) => {
    process.stdout.write(`${result.lines.join('\n')}\n`)
    await mkdir(dirname(resultsFile), { recursive: true })
    await writeFile(resultsFile, JSON.stringify({ at: new Date().toISOString(), node: process.version, layout: opts.cpus.note, ...result }, null, 2) + '\n')
    process.stdout.write(`results written to ${resultsFile}\n`)
    process.exitCode = result.problems.length === 0 ? 0 : 1
  }).catch((err: unknown) => {
    process.stderr.write(`tenant-requests failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
