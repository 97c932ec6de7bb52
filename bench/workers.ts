import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { keyHash } from '../src/callers/authenticate.js'
import { startStaticUpstream } from './nginx.js'
import { which, type CpuLayout } from './options.js'
import { sibling } from './sibling.js'
import type { UpstreamInit, UpstreamReady } from './upstream-process.js'
import { startWorker } from './worker.js'

/**
 * Scaling out on one host: the real gateway process (`serve --config FILE`, as operators run it) with
 * server.workers 1, 2 and (with the CPUs for them) 4 and 8, each saturated by wrk, requests per second printed per worker count. Tokens
 * come from the simulated Entra ID; the upstream is nginx serving a static page over TLS when installed
 * (as in bench/world.ts: the simulated Defender verifies a JWT per request and would take the CPU a
 * second worker needs), else the simulated Defender. Nothing is pinned: a second worker needs a second
 * CPU. Run from the repo root: `npx tsx bench/workers.ts`.
 */

/** 1 and 2 workers always (a second one on one CPU shows what it does not buy); 4 and 8 where the CPUs are there */
const WORKER_COUNTS = [1, 2, 4, 8].filter((n) => n <= 2 || n <= availableParallelism())
const REPS = 2
const CONNECTIONS = 50
const DURATION = '5s'
/** JIT, each worker's token and upstream connections: the first seconds are not the steady state */
const WARMUP = '2s'
const WARMUP_ROUNDS = 2
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 15_000
const TENANT = '11111111-1111-4111-8111-111111111111'
const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
const ROLES = ['Alert.Read.All']
const NOT_PINNED: CpuLayout = { taskset: undefined, note: 'not pinned' }

interface Gateway { readonly url: string, stop (): Promise<void> }
interface Upstream { readonly url: string, readonly kind: string, stop (): Promise<void> }
interface WrkRun { readonly rps: number, readonly failures: number }

function gatewayConfig (workers: number, up: UpstreamReady, upstreamUrl: string, apiKey: string): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, drainDelayMs: 0, workers },
    admin: { host: '127.0.0.1', port: 0 },
    identity: { clientId: CLIENT_ID, secret: { fromEnv: 'BENCH_CLIENT_SECRET' }, authorityHost: up.entraUrl },
    trust: { caFile: up.caFile },
    upstream: { regions: { eu: upstreamUrl } },
    // Budgets on but unbounded: Defender's real 1,500/h would end the run in a second.
    limits: { classes: { default: { perMinute: null, perHour: null } } },
    tenants: [{ id: TENANT, name: 'contoso', permissions: ROLES }],
    clients: [{ name: 'siem', keySha256: keyHash(apiKey), tenants: ['*'], permissions: ROLES }]
  }
}

/** Starts `serve`, logs to a file (as a service would), resolves with the API URL once it listens. */
async function startGateway (workers: number, dir: string, up: UpstreamReady, upstreamUrl: string, apiKey: string, secret: string): Promise<Gateway> {
  const configFile = join(dir, `gateway-${workers}.yaml`)
  const logFile = join(dir, `gateway-${workers}.log`)
  await writeFile(configFile, stringify(gatewayConfig(workers, up, upstreamUrl, apiKey)))
  const { file, execArgv } = sibling('../src/server.ts', import.meta.url)
  const log = openSync(logFile, 'w')
  const child = spawn(process.execPath, [...execArgv, file, 'serve', '--config', configFile], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, BENCH_CLIENT_SECRET: secret },
    stdio: ['ignore', log, log]
  })
  closeSync(log)
  const stop = async (): Promise<void> => { await stopChild(child) }
  for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline && child.exitCode === null;) {
    const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('"defender-gateway listening"'))
    if (line !== undefined) return { url: (JSON.parse(line) as { url: string }).url, stop }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`gateway with ${workers} worker(s) did not start; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`)
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

/** One wrk run: requests per second, and how many answers were not 2xx or never came. */
async function runWrk (wrk: string, url: string, apiKey: string, duration: string): Promise<WrkRun> {
  const child = spawn(wrk, ['-t', '2', '-c', String(CONNECTIONS), '-d', duration, '-H', `x-api-key: ${apiKey}`, url], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { out += c.toString() })
  const code = await new Promise<number | null>((resolve, reject) => { child.on('exit', resolve); child.on('error', reject) })
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]
  if (code !== 0 || rps === undefined) throw new Error(`wrk failed (exit ${String(code)}): ${out}`)
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const errors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0)
  return { rps: Number(rps), failures: non2xx + errors }
}

async function main (): Promise<void> {
  const wrk = which('wrk') ?? '/usr/bin/wrk'
  const secret = `bench-secret-${randomBytes(12).toString('hex')}`
  const apiKey = `gk_${randomBytes(24).toString('base64url')}`
  const dir = await mkdtemp(join(tmpdir(), 'gw-bench-workers-'))
  const init: UpstreamInit = { clientId: CLIENT_ID, clientSecret: secret, tenantId: TENANT, roles: ROLES, resetEveryMs: 100 }
  const sim = await startWorker<UpstreamReady>('./upstream-process.ts', init, NOT_PINNED, undefined)
  const rows: Array<{ workers: number, runs: WrkRun[] }> = []
  let upstream: Upstream | undefined
  try {
    upstream = await startUpstream(sim.ready)
    for (const workers of WORKER_COUNTS) {
      const gateway = await startGateway(workers, dir, sim.ready, upstream.url, apiKey, secret)
      try {
        const url = `${gateway.url}/tenants/${TENANT}/api/alerts?$top=1`
        for (let i = 0; i < WARMUP_ROUNDS; i++) await runWrk(wrk, url, apiKey, WARMUP)
        const runs: WrkRun[] = []
        for (let i = 0; i < REPS; i++) runs.push(await runWrk(wrk, url, apiKey, DURATION))
        rows.push({ workers, runs })
      } finally {
        await gateway.stop()
      }
    }
  } finally {
    await upstream?.stop()
    await sim.stop()
    await rm(dir, { recursive: true, force: true })
  }
  report(rows, upstream?.kind ?? '')
  // a failed request makes the numbers meaningless, as in the main bench
  if (rows.some((r) => r.runs.some((run) => run.failures > 0))) process.exitCode = 1
}

async function startUpstream (sim: UpstreamReady): Promise<Upstream> {
  const nginx = which('nginx') ?? which('nginx', { PATH: '/usr/sbin:/usr/local/sbin' })
  if (nginx === undefined) return { url: sim.regionUrl, kind: 'the simulated Defender (nginx not installed)', stop: async () => {} }
  const page = (base: string): string => JSON.stringify({ value: [{ id: 'da637000000000000000_1', severity: 'Medium' }], '@odata.nextLink': `${base}/api/alerts?$top=1&$skip=1` })
  const proxy = await startStaticUpstream({ binary: nginx, ...sim.staticCert, body: page, cpus: NOT_PINNED })
  return { url: proxy.url, kind: 'nginx serving a static page over TLS', stop: proxy.stop }
}

function report (rows: ReadonlyArray<{ workers: number, runs: WrkRun[] }>, upstream: string): void {
  const mean = (runs: WrkRun[]): number => runs.reduce((s, r) => s + r.rps, 0) / runs.length
  console.log(`gateway scaling with server.workers: wrk -c ${CONNECTIONS} -d ${DURATION}, ${REPS} runs each after ${WARMUP_ROUNDS} × ${WARMUP} warm-up`)
  console.log(`upstream: ${upstream}; ${availableParallelism()} CPUs shared by wrk, the upstream and the gateway (not pinned)`)
  console.log('workers  req/s per run        mean req/s  failed')
  for (const { workers, runs } of rows) {
    const each = runs.map((r) => r.rps.toFixed(0)).join(', ')
    console.log(`${String(workers).padEnd(8)} ${each.padEnd(20)} ${mean(runs).toFixed(0).padStart(10)}  ${runs.reduce((s, r) => s + r.failures, 0)}`)
  }
  const one = rows[0]
  for (const row of rows.slice(1)) {
    if (one !== undefined) console.log(`${row.workers} workers vs ${one.workers}: ×${(mean(row.runs) / mean(one.runs)).toFixed(2)}`)
  }
}

main().catch((err: unknown) => {
  console.error(`bench/workers: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
