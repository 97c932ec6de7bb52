import { accessSync, constants } from 'node:fs'
import { availableParallelism } from 'node:os'
import { delimiter, join } from 'node:path'
import type { PeerName } from './peers.js'

const PEERS: readonly PeerName[] = ['haproxy', 'fastify', 'bare-node']

/** Which CPU each party runs on; undefined everywhere when `taskset` is missing or there is one CPU. */
export interface CpuLayout {
  readonly taskset: string | undefined
  readonly load?: number
  readonly upstream?: number
  readonly proxy?: number
  readonly note: string
}

/** Everything the bench takes from the environment, read once. */
export interface BenchOptions {
  readonly reps: number
  readonly durationSec: number
  readonly warmupSec: number
  /** most warm-up runs before one measured run (the gateway's repeat until its upstream pool is full) */
  readonly warmupRounds: number
  readonly connections: number
  /** fixed-rate target, requests per second (0 skips the fixed-rate runs) */
  readonly rate: number
  readonly rateConnections: number
  readonly wrk: string | undefined
  readonly nginx: string | undefined
  readonly haproxy: string | undefined
  /** peers beside nginx to compare with (BENCH_PEERS, comma-separated; all by default) */
  readonly peers: readonly PeerName[]
  readonly cpus: CpuLayout
  /** CPUs available when the bench started (before it pins itself) */
  readonly cpuCount: number
  /** extra node flags for the gateway process (BENCH_GATEWAY_NODE_ARGS, e.g. `--cpu-prof`) */
  readonly gatewayNodeArgs: readonly string[]
  /** node flags for the baseline's gateway instead of gatewayNodeArgs (BENCH_BASELINE_NODE_ARGS): the same build with other flags is a before/after too */
  readonly baselineNodeArgs?: readonly string[]
  /** a git ref whose gateway runs beside this one as the `baseline` target (BENCH_BASELINE; bench/baseline.ts) */
  readonly baseline: string | undefined
  readonly resultsFile: string
  /** tenants for the tenant-scale part after the main part (BENCH_TENANTS); undefined with BENCH_TENANT_SCALE=0 */
  readonly tenantScale: number | undefined
}

function intFromEnv (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number.parseInt(raw, 10)
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name}=${raw}: must be an integer from ${min} to ${max}`)
  return n
}

/** Finds an executable on PATH (like `command -v`), without running a shell. */
export function which (name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return undefined
}

function cpuLayout (env: NodeJS.ProcessEnv): CpuLayout {
  const taskset = env.BENCH_NO_TASKSET === '1' ? undefined : which('taskset', env)
  const n = availableParallelism()
  if (taskset === undefined) return { taskset, note: 'taskset not found (or BENCH_NO_TASKSET=1): processes are not pinned' }
  if (n < 2) return { taskset: undefined, note: `${n} CPU: processes are not pinned` }
  // With 3+ CPUs the upstream gets its own; with 2 it shares CPU 0 with the load generator.
  const upstream = n >= 3 ? 2 : 0
  return { taskset, load: 0, upstream, proxy: 1, note: `pinned: load generator CPU 0, upstream CPU ${upstream}, proxy CPU 1 (${n} CPUs)` }
}

/** Reads BENCH_* variables; throws on a malformed value so a typo is not silently a default. */
export function readOptions (env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const wrk = env.BENCH_LOADGEN === 'autocannon' ? undefined : which('wrk', env)
  const nginx = env.BENCH_NO_NGINX === '1' ? undefined : which('nginx', env) ?? findSbin('nginx')
  return {
    reps: intFromEnv(env, 'BENCH_REPS', 3, 1, 50),
    durationSec: intFromEnv(env, 'BENCH_DURATION', 5, 1, 600),
    warmupSec: intFromEnv(env, 'BENCH_WARMUP', 2, 0, 60),
    warmupRounds: intFromEnv(env, 'BENCH_WARMUP_ROUNDS', 4, 1, 20),
    connections: intFromEnv(env, 'BENCH_CONNECTIONS', 50, 1, 10_000),
    rate: intFromEnv(env, 'BENCH_RATE', 2000, 0, 1_000_000),
    rateConnections: intFromEnv(env, 'BENCH_RATE_CONNECTIONS', 50, 1, 10_000),
    wrk,
    nginx,
    haproxy: which('haproxy', env) ?? findSbin('haproxy'),
    peers: peersFromEnv(env),
    cpus: cpuLayout(env),
    cpuCount: availableParallelism(),
    gatewayNodeArgs: nodeArgs(env.BENCH_GATEWAY_NODE_ARGS),
    baselineNodeArgs: env.BENCH_BASELINE_NODE_ARGS === undefined ? undefined : nodeArgs(env.BENCH_BASELINE_NODE_ARGS),
    baseline: env.BENCH_BASELINE === '' ? undefined : env.BENCH_BASELINE,
    resultsFile: env.BENCH_RESULTS ?? '.bench/results.json',
    tenantScale: env.BENCH_TENANT_SCALE === '0' ? undefined : intFromEnv(env, 'BENCH_TENANTS', 10_000, 1, 1_000_000)
  }
}

function peersFromEnv (env: NodeJS.ProcessEnv): PeerName[] {
  const raw = env.BENCH_PEERS
  if (raw === undefined) return [...PEERS]
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '')
  const unknown = names.filter((n) => !(PEERS as readonly string[]).includes(n))
  if (unknown.length > 0) throw new Error(`BENCH_PEERS=${raw}: unknown peer ${unknown.join(', ')} (known: ${PEERS.join(', ')})`)
  return names as PeerName[]
}

function findSbin (name: string): string | undefined {
  return which(name, { PATH: ['/usr/sbin', '/usr/local/sbin', '/sbin'].join(delimiter) })
}

/** Prefixes a command with `taskset -c CPU` when pinning is on. */
export function pinned (cpus: CpuLayout, cpu: number | undefined, command: string, args: string[]): [string, string[]] {
  if (cpus.taskset === undefined || cpu === undefined) return [command, args]
  return [cpus.taskset, ['-c', String(cpu), command, ...args]]
}

function nodeArgs (value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((a) => a !== '')
}
