import type { Test } from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keyHash } from '../src/callers/authenticate.js'
import { call, CLIENT_ID, CLIENT_SECRET, READ_ROLES, uuid, withKey, type Answer } from './helper.js'
import { startGatewayProcess, type GatewayProcess } from './operations-helper.js'
import { until } from './redis-clients.js'
import { startSimWorld, type SimWorld } from './sim/index.js'

/** The shared budget of every tenant in the failover tests (requests per minute, default rate class). */
export const BUDGET = 100
/** limits.fallbackShare: each of the 3 replicas' share while Redis is unreachable (1/3 is strictly safe). */
export const FALLBACK_SHARE = 0.34

/** Three gateway processes on one Redis topology, the simulators, and what the tests measure. */
export interface FailoverWorld {
  readonly sim: SimWorld
  readonly replicas: readonly GatewayProcess[]
  /** GET alerts for `tenant` through replica `i` */
  alerts (i: number, tenant: string): Promise<Answer>
  /** sum of a metric's samples on replica `i` whose line contains `match` */
  metric (i: number, name: string, match?: string): Promise<number>
  /** the label values of `node` in defender_gateway_redis_primary_info on replica `i` */
  primaries (i: number): Promise<string[]>
  /** resolves once every replica has its breaker closed (Redis in use) */
  allShared (): Promise<boolean>
  close (): Promise<void>
}

/** Starts the sim (Defender never throttles, so what the gateway lets through is what it counts) and 3 replicas. */
export async function startFailoverWorld (tenants: readonly string[], redis: Record<string, unknown>): Promise<FailoverWorld> {
  const key = `gk_${uuid().replaceAll('-', '')}`
  const sim = await startSimWorld({ clientId: CLIENT_ID, clientSecrets: [CLIENT_SECRET], regions: ['eu'], grants: Object.fromEntries(tenants.map((id) => [id, READ_ROLES])), defender: { ratePerMinute: 1_000_000 } })
  const dir = await mkdtemp(join(tmpdir(), 'dgw-failover-'))
  const replicas: GatewayProcess[] = []
  const close = async (): Promise<void> => {
    await Promise.all(replicas.map(async (r) => { await r.stop() }))
    await sim.close()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const file = join(dir, 'gateway.yaml')
    await writeFile(file, JSON.stringify({
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_SECRET' }, authorityHost: sim.entra.url },
      trust: { caFile: sim.caFile },
      upstream: { region: 'eu', regions: { eu: sim.regions.eu?.url }, connectTimeoutMs: 120_000 },
      tenants: tenants.map((id) => ({ id, permissions: READ_ROLES })),
      clients: [{ name: 'siem', keySha256: keyHash(key), tenants: ['*'], permissions: READ_ROLES }],
      // A stalled event loop on a busy machine is not what these tests are about: a generous timeout.
      redis: { tokenKey: { fromEnv: 'GW_REDIS_KEY' }, commandTimeoutMs: 2000, probeIntervalMs: 200, ...redis },
      limits: { maxWaitMs: 0, fallbackShare: FALLBACK_SHARE, classes: { default: { perMinute: BUDGET } } },
      logging: { level: 'info' }
    }))
    const env = { GATEWAY_CONFIG: '', GW_SECRET: CLIENT_SECRET, GW_REDIS_KEY: `tk_${uuid()}${uuid()}` }
    await Promise.all([0, 1, 2].map(async () => { replicas.push(await startGatewayProcess(file, env)) }))
  } catch (err) {
    await close()
    throw err
  }
  const at = (i: number): GatewayProcess => replicas[i] as GatewayProcess
  const lines = async (i: number, name: string): Promise<string[]> =>
    (await call(at(i).adminUrl, '/metrics')).text.split('\n').filter((l) => l.startsWith(name))
  const metric = async (i: number, name: string, match = ''): Promise<number> =>
    (await lines(i, name)).filter((l) => l.includes(match)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
  return {
    sim,
    replicas,
    alerts: async (i, tenant) => await call(at(i).url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(key) }),
    metric,
    primaries: async (i) => (await lines(i, 'defender_gateway_redis_primary_info')).map((l) => /node="([^"]+)"/.exec(l)?.[1] ?? '').sort(),
    allShared: async () => await until(async () => {
      for (let i = 0; i < 3; i++) if (await metric(i, 'defender_gateway_redis_breaker_state') !== 0) return false
      return true
    }),
    close
  }
}

/** What a bounded load saw: every answer's status and error code. */
export interface LoadResult { readonly sent: number, readonly ok: number, readonly limited: number, readonly failed: readonly string[] }

/**
 * Requests, one at a time per replica with a short pause between them (so a tenant's budget lasts a
 * few seconds, into the failover), each replica cycling through `tenants`, until stopped or `max` are
 * sent. Gateway 429 RateLimited is the budget working; anything else but 200 is a failure.
 */
export function runLoad (world: FailoverWorld, tenants: readonly string[], max = 20_000): { sent (): number, limited (): number, stop (): Promise<LoadResult> } {
  let sent = 0
  const state = { stopped: false }
  let ok = 0
  let limited = 0
  const failed: string[] = []
  const worker = async (replica: number): Promise<void> => {
    for (let n = replica; !state.stopped && sent < max; n++) {
      sent++
      try {
        const answer = await world.alerts(replica, tenants[n % tenants.length] as string)
        if (answer.status === 200) ok++
        else if (answer.status === 429 && answer.json().error?.code === 'RateLimited') limited++
        else failed.push(`${answer.status} ${answer.text.slice(0, 200)}`)
      } catch (err) {
        failed.push(String(err))
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const done = Promise.all([0, 1, 2].map(worker))
  return {
    sent: () => sent,
    limited: () => limited,
    async stop () {
      state.stopped = true
      await done
      return { sent, ok, limited, failed }
    }
  }
}

/**
 * Calls Defender received for `tenant` beyond the budget in the busiest minute: the most calls in any
 * 60 s window minus the budget (0 when the budget held).
 */
export function beyondBudget (sim: SimWorld, tenant: string, budget = BUDGET): number {
  const times = Object.values(sim.regions).flatMap((r) => r.received.filter((x) => x.tenant === tenant).map((x) => x.at)).sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 60_000) j++
    most = Math.max(most, i - j + 1)
  }
  return Math.max(0, most - budget)
}

/** What a failover under load cost, for each test's own checks and its comment. */
export interface FailoverCost {
  readonly result: LoadResult
  /** token requests per tenant during the failover */
  readonly tokens: readonly number[]
  /** calls beyond the budget per tenant (beyondBudget) */
  readonly beyond: readonly number[]
  /** defender_gateway_redis_failovers_total and ..._fallback_seconds_total per replica */
  readonly failovers: readonly number[]
  readonly fallbackSeconds: readonly number[]
}

/**
 * The end of a failover under load, once every replica is back on Redis: the load runs on until every
 * tenant's budget is spent; then no request failed, at most one token request per tenant, and calls
 * beyond the budget are bounded by the replicas' fallback shares.
 */
export async function finishFailoverLoad (t: Test, world: FailoverWorld, load: ReturnType<typeof runLoad>, tenants: readonly string[]): Promise<FailoverCost> {
  const recovered = load.sent()
  // On until every tenant's budget is spent, so what got through in that minute is all counted.
  t.ok(await until(() => load.sent() >= recovered + 30 && load.limited() >= 3 * 5), 'load continues on the new primary until the budgets are spent')
  const result = await load.stop()
  t.same(result.failed, [], 'no failed request')
  const tokens = tenants.map((tenant) => world.sim.entra.tokenRequests(tenant) - 1)
  t.ok(tokens.every((n) => n <= 1), 'at most one token request per tenant during the failover')
  const beyond = tenants.map((tenant) => beyondBudget(world.sim, tenant))
  t.ok(beyond.every((n) => n <= Math.ceil(3 * FALLBACK_SHARE * BUDGET)), 'calls beyond the budget bounded by the replicas\' fallback shares')
  const failovers = await Promise.all([0, 1, 2].map(async (i) => await world.metric(i, 'defender_gateway_redis_failovers_total')))
  const fallbackSeconds = await Promise.all([0, 1, 2].map(async (i) => await world.metric(i, 'defender_gateway_redis_fallback_seconds_total')))
  return { result, tokens, beyond, failovers, fallbackSeconds }
}
