import { randomBytes } from 'node:crypto'
import { get } from 'node:http'
import { keyHash } from '../src/callers/authenticate.js'
import type { BaselineBuild } from './baseline.js'
import type { GatewayInit, GatewayReady, GatewayStats } from './gateway-process.js'
import { startNginx, startStaticUpstream, type NginxProxy } from './nginx.js'
import type { BenchOptions } from './options.js'
import { readProc } from './procstat.js'
import type { UpstreamInit, UpstreamReady } from './upstream-process.js'
import { startPeers } from './peers.js'
import { startWorker, startWorkerScript, type Worker } from './worker.js'

/** Every target, in the order the tables list them. */
export const TARGET_NAMES = ['direct', 'nginx', 'haproxy', 'bare-node', 'fastify', 'baseline', 'gateway'] as const
export type TargetName = typeof TARGET_NAMES[number]

/** One thing the load generator is pointed at. */
export interface Target {
  readonly name: TargetName
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** the proxy's processes (none for direct) */
  readonly proxyPids: () => number[]
  /** the gateway's own counters (undefined for the others) */
  readonly stats?: () => Promise<GatewayStats>
}

/** The upstream, the proxies in front of it, and how to reach each. */
export interface BenchWorld {
  readonly targets: readonly Target[]
  /** the processes serving the load runs' upstream (static nginx, or the simulated Defender) */
  readonly upstreamPids: () => number[]
  readonly gatewayPid: number
  /** gateway base for the big-response run: a tenant whose region is the simulated Defender */
  readonly simTenantUrl: string
  readonly gatewayHeaders: Readonly<Record<string, string>>
  /** the simulated Defender region and a token for it: the big-response run puts nginx in front of it too */
  readonly bigAnswer: { readonly regionUrl: string, readonly caFile: string, readonly token: string }
  /** asks the upstream process over IPC (bench/upstream-process.ts answers `big-answer` and `big-answer-off`) */
  upstreamQuery<T> (type: string, payload?: Record<string, unknown>, timeoutMs?: number): Promise<T>
  /** asks the gateway process over IPC (bench/gateway-process.ts answers `stats` and `gc`) */
  gatewayQuery<T> (type: string): Promise<T>
  /** the gateway's RSS once listening, before any request (node + tsx + the app) */
  readonly gatewayIdleRssKb: number
  /** the baseline's gateway process (BENCH_BASELINE), run like the gateway: its commit, pid and RSS once listening */
  readonly baseline?: { readonly ref: string, readonly sha: string, readonly pid: number, readonly idleRssKb: number }
  readonly adminUrl: string
  readonly notes: readonly string[]
  close (): Promise<void>
}

export const TENANT = '11111111-1111-4111-8111-111111111111'
/** pinned to the simulated Defender region, for the big-response run (the static upstream has no export) */
const SIM_TENANT = '22222222-2222-4222-8222-222222222222'
const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
const ROLES = ['Alert.Read.All', 'Machine.Read.All', 'Ti.ReadWrite', 'AdvancedQuery.Read.All', 'Software.Read.All']
/** records in the export the big-response run streams as one page (~0.7 KB each: ~210 MB) */
export const EXPORT_RECORDS = 300_000
export const REQUEST_PATH = '/api/alerts?$top=1'

/** One alert and an absolute nextLink back to the upstream (which the gateway rewrites), as Defender pages. */
function staticPage (base: string): string {
  return JSON.stringify({
    '@odata.context': `${base}/api/$metadata#Alerts`,
    value: [{ id: 'da637000000000000000_1', severity: 'Medium', status: 'New', title: 'Suspicious PowerShell command line', machineId: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07', alertCreationTime: '2026-11-28T10:00:00Z' }],
    '@odata.nextLink': `${base}/api/alerts?$top=1&$skip=1`
  })
}

/** The gateway config: caller auth, catalogue + allowlist, token cache, auto region, metrics, info logs. */
function gatewayConfig (up: UpstreamReady, loadUpstreamUrl: string, apiKey: string): Record<string, unknown> {
  return {
    // no drain delay: the bench stops the gateway itself (and --cpu-prof needs a clean exit)
    server: { host: '127.0.0.1', port: 0, drainDelayMs: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    identity: { clientId: CLIENT_ID, secret: { fromEnv: 'BENCH_CLIENT_SECRET' }, authorityHost: up.entraUrl },
    trust: { caFile: up.caFile },
    // eu is the load runs' upstream, uk the simulated Defender; each tenant is resident in one of them.
    upstream: { region: 'auto', regions: { eu: loadUpstreamUrl, uk: up.regionUrl } },
    logging: { level: 'info' },
    // Budgets stay on (every request still takes from one) with no window: Defender's real 1,500/h
    // would cap a benchmark, and a log of millions of calls would measure nothing real.
    limits: { classes: { default: { perMinute: null, perHour: null } } },
    tenants: [
      { id: TENANT, name: 'contoso', permissions: ROLES, regions: ['eu'] },
      { id: SIM_TENANT, name: 'fabrikam', permissions: ROLES, regions: ['uk'] }
    ],
    clients: [
      { name: 'siem', keySha256: keyHash(apiKey), tenants: ['*'], permissions: ['Alert.Read.All', 'Machine.Read.All', 'Software.Read.All'] },
      { name: 'other', keySha256: keyHash(`gk_${randomBytes(24).toString('base64url')}`), tenants: ['contoso'], permissions: ['Alert.Read.All'] }
    ]
  }
}

/** Starts the simulated upstream and the gateway (and the baseline's) as child processes, and nginx when installed. */
export async function startBenchWorld (opts: BenchOptions, logFile: string, baseline?: BaselineBuild): Promise<BenchWorld> {
  const secret = `bench-secret-${randomBytes(12).toString('hex')}`
  const apiKey = `gk_${randomBytes(24).toString('base64url')}`
  const stops: Array<() => Promise<void>> = []
  const close = async (): Promise<void> => { for (const stop of stops.reverse()) await stop() }
  try {
    const upInit: UpstreamInit = { clientId: CLIENT_ID, clientSecret: secret, tenantId: TENANT, otherTenants: [SIM_TENANT], roles: ROLES, resetEveryMs: 100, exportRecords: EXPORT_RECORDS }
    const upstream: Worker<UpstreamReady> = await startWorker('./upstream-process.ts', upInit, opts.cpus, opts.cpus.upstream)
    stops.push(upstream.stop)
    const up = upstream.ready
    const notes: string[] = []
    let load = { url: up.regionUrl, pids: () => [upstream.pid] }
    if (opts.nginx === undefined) {
      notes.push('upstream for the load runs: the simulated Defender (nginx not installed), which verifies a JWT per request and may set the limit')
    } else {
      const stat = await startStaticUpstream({ binary: opts.nginx, ...up.staticCert, body: staticPage, cpus: opts.cpus })
      stops.push(stat.stop)
      load = { url: stat.url, pids: () => stat.pids() }
      notes.push('upstream for the load runs: nginx serving one static alerts page over TLS (cheap, so the proxy under test sets the limit)')
    }
    const gwInit: GatewayInit = { config: gatewayConfig(up, load.url, apiKey), env: { BENCH_CLIENT_SECRET: secret }, logFile }
    const gateway: Worker<GatewayReady> = await startWorker('./gateway-process.ts', gwInit, opts.cpus, opts.cpus.proxy, opts.gatewayNodeArgs)
    stops.push(gateway.stop)
    // The same init, CPU and node flags as the gateway: only the code differs.
    const baselineGateway: Worker<GatewayReady> | undefined = baseline === undefined
      ? undefined
      : await startWorkerScript<GatewayReady>({ file: baseline.gatewayScript, execArgv: [] }, gwInit, opts.cpus, opts.cpus.proxy, opts.baselineNodeArgs ?? opts.gatewayNodeArgs)
        .catch((err: Error) => { throw new Error(`BENCH_BASELINE=${baseline.ref}: its gateway did not start: ${err.message}`) })
    if (baselineGateway !== undefined) stops.push(baselineGateway.stop)
    const targets: Target[] = [{ name: 'direct', url: load.url + REQUEST_PATH, headers: { authorization: `Bearer ${up.token}` }, proxyPids: () => [] }]
    let nginx: NginxProxy | undefined
    if (opts.nginx === undefined) {
      notes.push('nginx not found on PATH (apt-get install nginx-light): the nginx reference is skipped')
    } else {
      nginx = await startNginx({ binary: opts.nginx, upstreamUrl: load.url, caFile: up.caFile, token: up.token, logFile, cpus: opts.cpus })
      stops.push(nginx.stop)
      const n = nginx
      targets.push({ name: 'nginx', url: n.url + REQUEST_PATH, headers: {}, proxyPids: () => n.pids() })
    }
    for (const peer of await startPeers(opts, up, load.url, stops, notes)) {
      targets.push({ name: peer.name, url: peer.url + REQUEST_PATH, headers: {}, proxyPids: peer.pids })
    }
    const gatewayTarget = (name: 'baseline' | 'gateway', w: Worker<GatewayReady>): Target => ({
      name,
      url: `${w.ready.url}/tenants/${TENANT}${REQUEST_PATH}`,
      headers: { 'x-api-key': apiKey },
      proxyPids: () => [w.pid],
      stats: async () => await w.query<GatewayStats>('stats')
    })
    if (baselineGateway !== undefined) targets.push(gatewayTarget('baseline', baselineGateway))
    targets.push(gatewayTarget('gateway', gateway))
    const idleRssKb = readProc(gateway.pid).rssKb
    return {
      targets,
      upstreamPids: load.pids,
      gatewayPid: gateway.pid,
      simTenantUrl: `${gateway.ready.url}/tenants/${SIM_TENANT}`,
      gatewayHeaders: { 'x-api-key': apiKey },
      bigAnswer: { regionUrl: up.regionUrl, caFile: up.caFile, token: up.token },
      upstreamQuery: async <T>(type: string, payload?: Record<string, unknown>, timeoutMs?: number) => await upstream.query<T>(type, payload, timeoutMs),
      gatewayQuery: async <T>(type: string) => await gateway.query<T>(type),
      gatewayIdleRssKb: idleRssKb,
      ...(baseline === undefined || baselineGateway === undefined
        ? {}
        : { baseline: { ref: baseline.ref, sha: baseline.sha, pid: baselineGateway.pid, idleRssKb: readProc(baselineGateway.pid).rssKb } }),
      adminUrl: gateway.ready.adminUrl,
      notes,
      close
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** Scrapes the gateway's /metrics and returns the samples whose names start with the prefix, summed by name. */
export async function scrapeMetrics (adminUrl: string, prefix = 'defender_gateway_'): Promise<Record<string, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = get(`${adminUrl}/metrics`, { timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve(body))
    })
    req.on('timeout', () => req.destroy(new Error('metrics scrape timed out')))
    req.on('error', reject)
  })
  const sums: Record<string, number> = {}
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue
    const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line)
    if (m === null || m[1]!.endsWith('_bucket')) continue
    sums[m[1]!] = (sums[m[1]!] ?? 0) + Number(m[2])
  }
  return sums
}
