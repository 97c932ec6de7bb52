import { randomBytes, randomUUID } from 'node:crypto'
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { buildGateway, type Gateway } from '../src/app.js'
import { buildFromObject } from '../src/config/load.js'
import { keyHash } from '../src/callers/authenticate.js'
import { loggerOptions } from '../src/observability/logger.js'
import type { TokenSource } from '../src/tokens/types.js'
import type { Probe } from '../src/regions/prober.js'
import { startSimWorld, type SimWorld, type SimWorldOptions } from './sim/index.js'

/** Fixed tenant ids so failures read the same every run. */
export const TENANT_A = '11111111-1111-4111-8111-111111111111'
export const TENANT_B = '22222222-2222-4222-8222-222222222222'
export const TENANT_C = '33333333-3333-4333-8333-333333333333'
export const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
export const CLIENT_SECRET = `sim-secret-${randomBytes(12).toString('hex')}`
export const ADMIN_TOKEN = `admin-${randomBytes(16).toString('hex')}`

export const READ_ROLES = ['Alert.Read.All', 'Machine.Read.All', 'Ti.ReadWrite', 'AdvancedQuery.Read.All', 'Software.Read.All']
export const ALL_ROLES = [...READ_ROLES, 'Alert.ReadWrite.All', 'Machine.Isolate', 'Machine.Scan']
/** Microsoft Graph roles the simulated tenants A and B grant the app (the same app's Graph permissions) */
export const GRAPH_ROLES = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All', 'SecurityIncident.Read.All', 'ThreatHunting.Read.All']

export interface TestWorld {
  readonly sim: SimWorld
  readonly gateway: Gateway
  readonly url: string
  readonly adminUrl: string
  /** raw API keys by client name */
  readonly keys: { readonly siem: string, readonly ops: string, readonly narrow: string }
  /** every log line the gateway wrote, parsed */
  readonly logs: Array<Record<string, unknown>>
  /** every log line as text, for secret scans */
  readonly rawLogs: string[]
  close (): Promise<void>
}

export interface WorldOptions {
  grants?: Record<string, string[]>
  sim?: Partial<SimWorldOptions>
  /** merged over the default config object */
  config?: (base: Record<string, any>, sim: SimWorld) => Record<string, any>
  /** a token source in place of msal (adversarial tests: an identity provider that misbehaves) */
  tokenSource?: (sim: SimWorld) => TokenSource
  /**
   * RTT in ms the region probes report, by region (the real probe still decides up or down). Fixed, so
   * `auto` ranks the same on a busy machine; keep the preferred region's value below every other
   * region's simulated latency, so real traffic (which only ever lowers an estimate) cannot invert it.
   */
  rttMs?: Readonly<Record<string, number>>
  /** runs after the simulators start, before the config is loaded (e.g. to write files it names) */
  beforeGateway?: (sim: SimWorld) => Promise<void>
}

/** Starts the simulators and a gateway against them over real sockets (port 0 everywhere). */
export async function startWorld (options: WorldOptions = {}): Promise<TestWorld> {
  const sim = await startSimWorld({
    clientId: CLIENT_ID,
    clientSecrets: [CLIENT_SECRET],
    grants: options.grants ?? { [TENANT_A]: ALL_ROLES, [TENANT_B]: ALL_ROLES, [TENANT_C]: READ_ROLES },
    // us slower than eu (and probed at 1 ms against 1 s, DEFAULT_RTT), so `auto` prefers eu
    latencyMs: { us: 30 },
    graphGrants: { [TENANT_A]: GRAPH_ROLES, [TENANT_B]: GRAPH_ROLES, [TENANT_C]: ['SecurityAlert.Read.All'] },
    ...options.sim
  })
  const keys = { siem: `gk_${randomBytes(24).toString('base64url')}`, ops: `gk_${randomBytes(24).toString('base64url')}`, narrow: `gk_${randomBytes(24).toString('base64url')}` }
  const regions = Object.fromEntries(Object.entries(sim.regions).map(([name, r]) => [name, r.url]))
  const base = {
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0, token: { fromEnv: 'GW_TEST_ADMIN' } },
    identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_TEST_SECRET' }, authorityHost: sim.entra.url },
    trust: { caFile: sim.caFile },
    upstream: { region: 'auto', regions },
    graph: { url: sim.graph.url },
    logging: { level: 'info' },
    // Budgets out of the way by default (tests send hundreds of calls to one tenant); the budget tests
    // set their own limits.
    limits: { classes: { default: { perMinute: 1_000_000, perHour: 10_000_000 } } },
    tenants: [
      { id: TENANT_A, name: 'contoso', permissions: ALL_ROLES },
      { id: TENANT_B, name: 'fabrikam', permissions: ALL_ROLES },
      { id: TENANT_C, name: 'woodgrove', permissions: ['Alert.Read.All', 'Machine.Read.All', 'Machine.Isolate'] }
    ],
    clients: [
      { name: 'siem', keySha256: keyHash(keys.siem), tenants: ['*'], permissions: ['Alert.Read.All', 'Machine.Read.All', 'AdvancedQuery.Read.All', 'Ti.ReadWrite', 'Software.Read.All'] },
      { name: 'ops', keySha256: keyHash(keys.ops), tenants: ['*'], permissions: ALL_ROLES },
      { name: 'narrow', keySha256: keyHash(keys.narrow), tenants: ['contoso'], permissions: ['Alert.Read.All'] }
    ]
  }
  try {
    return await startGateway(sim, base, keys, options)
  } catch (err) {
    // A gateway that failed to build or listen must not leave the simulators' sockets open.
    await sim.close()
    throw err
  }
}

async function startGateway (sim: SimWorld, base: Record<string, any>, keys: TestWorld['keys'], options: WorldOptions): Promise<TestWorld> {
  await options.beforeGateway?.(sim)
  const raw = options.config === undefined ? base : options.config(base, sim)
  const loaded = buildFromObject(raw, { source: 'test', baseDir: process.cwd(), env: { GW_TEST_SECRET: CLIENT_SECRET, GW_TEST_ADMIN: ADMIN_TOKEN } })
  const logs: Array<Record<string, unknown>> = []
  const rawLogs: string[] = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue
        rawLogs.push(line)
        logs.push(JSON.parse(line))
      }
      cb()
    }
  })
  const logger = pino(loggerOptions('info'), sink)
  const gateway = await buildGateway(loaded, { logger, tokenSource: options.tokenSource?.(sim), probe: fixedRtt(options.rttMs ?? DEFAULT_RTT) })
  const { url, adminUrl } = await gateway.listen().catch(async (err: unknown) => {
    await gateway.close().catch(() => {})
    throw err
  })
  return {
    sim,
    gateway,
    url,
    adminUrl,
    keys,
    logs,
    rawLogs,
    async close () {
      await gateway.close().catch(() => {})
      await sim.close()
      // Every world checks its own log lines, so the suite as a whole scans every line it produced.
      const leaks = findSecrets(rawLogs, [CLIENT_SECRET, ADMIN_TOKEN, ...Object.values(keys)])
      if (leaks.length > 0) throw new Error(`secrets in gateway logs: ${leaks.join('; ')}`)
    }
  }
}

const DEFAULT_RTT = { eu: 1, us: 1000 }

/** A probe that really asks the region, then reports a fixed RTT for it (the measured one if none given). */
export function fixedRtt (rttMs: Readonly<Record<string, number>>): (real: Probe) => Probe {
  return (real) => async (region) => {
    const result = await real(region)
    const fixed = rttMs[region.name]
    return result.ok && fixed !== undefined ? { ok: true, rttMs: fixed } : result
  }
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/

/** Which of the given secrets (or any JWT) appear in the lines; the offending values are not repeated. */
export function findSecrets (lines: readonly string[], secrets: readonly string[]): string[] {
  const found: string[] = []
  for (const [i, line] of lines.entries()) {
    if (secrets.some((s) => s !== '' && line.includes(s))) found.push(`line ${i}: a configured secret or API key`)
    if (JWT.test(line)) found.push(`line ${i}: an access token`)
  }
  return found
}

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  text: string
  json (): any
}

export interface CallOptions {
  method?: string
  headers?: OutgoingHttpHeaders
  body?: string | Buffer
  ca?: string
}

/** Raw HTTP(S) call: the path is sent exactly as given (no URL normalisation). */
export async function call (base: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const url = new URL(base)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const req = send({
      host: url.hostname,
      port: url.port,
      path,
      method: options.method ?? 'GET',
      headers: options.headers,
      ca: options.ca,
      agent: false
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A key header for a client of the world. */
export function withKey (key: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return { 'x-api-key': key, ...extra }
}

export function uuid (): string {
  return randomUUID()
}
