import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pino } from 'pino'
import { createMsalTokenSource } from '../src/tokens/msal-source.js'
import { createTokenProvider } from '../src/tokens/token-provider.js'
import { TokenError, type TokenProvider } from '../src/tokens/types.js'
import { sibling } from './sibling.js'

/**
 * `npx tsx bench/tenant-scale.ts`: the token layer at MSSP scale, with real msal against the simulated
 * Entra ID (its own process) over loopback TLS. 10,000 tenants warmed → extra RSS and cache-hit cost vs 1 tenant;
 * 500 concurrent cold requests for one tenant → token requests sent. Env: TENANTS, HITS, ROUNDS.
 * Forked by `npm run bench` (bench/scale-step.ts), it sends its result to the parent instead of printing it.
 */

/** What one tenant-scale run measured (also in .bench/results.json as `tenantScale`). */
export interface TenantScaleResult {
  readonly tenants: number
  readonly warmTokenRequests: number
  /** transient token failures the warm-up retried */
  readonly warmRetries: number
  readonly warmSec: number
  readonly rssOneMb: number
  readonly rssManyMb: number
  readonly extraRssMb: number
  readonly hitNsOne: number
  readonly hitNsMany: number
  readonly hitRatio: number
  readonly burstTokenRequests: number
  readonly burstDistinctTokens: number
  /** the human-readable report */
  readonly lines: readonly string[]
}

const TENANTS = Number(process.env.TENANTS ?? 10_000)
const HITS = Number(process.env.HITS ?? 1_000_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
const SECRET = `bench-${randomUUID()}`

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function settledRssMb (): number {
  for (let i = 0; i < 4; i++) gc()
  const m = process.memoryUsage()
  if (process.env.DEBUG_MEM !== undefined) console.log(`  rss ${(m.rss / 1048576).toFixed(1)} heapUsed ${(m.heapUsed / 1048576).toFixed(1)} heapTotal ${(m.heapTotal / 1048576).toFixed(1)} external ${(m.external / 1048576).toFixed(1)}`)
  return m.rss / 1048576
}

function provider (entraUrl: string, caPem: string): TokenProvider {
  return createTokenProvider({
    source: createMsalTokenSource({
      clientId: CLIENT_ID,
      authorityHost: entraUrl,
      scope: 'https://api.securitycenter.microsoft.com/.default',
      credentials: [{ kind: 'secret', name: 'bench', secret: { reveal: () => SECRET } }],
      caPem,
      timeoutMs: 30_000,
      logger: pino({ level: 'silent' })
    }),
    resource: 'https://api.securitycenter.microsoft.com',
    skewMs: 300_000,
    maxTenants: 50_000
  })
}

/**
 * Warms tenants through Entra with bounded concurrency, as a crowd of SIEM connectors would, and like
 * them retries a transient failure after the Retry-After it was given (at most 3 times). Returns how
 * many retries it took: the report shows them rather than failing the whole run on one slow answer.
 */
async function warm (p: TokenProvider, tenants: readonly string[], concurrency = 64): Promise<number> {
  let next = 0
  let retries = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < tenants.length) {
      const tenant = tenants[next++]!
      for (let attempt = 1; ; attempt++) {
        try {
          await p.get(tenant, 'warm')
          break
        } catch (err) {
          if (!(err instanceof TokenError) || err.kind !== 'transient' || attempt > 3) throw err
          retries++
          await new Promise((resolve) => setTimeout(resolve, 1000 * (err.retryAfterSeconds ?? 1)))
        }
      }
    }
  }))
  return retries
}

/** ns per cache hit over `order` (awaited, as the pipeline awaits it). */
async function hitCost (p: TokenProvider, order: readonly string[]): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < HITS; i++) await p.get(order[i % order.length]!, 'r')
  return Number(process.hrtime.bigint() - start) / HITS
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Starts the simulated Entra in a child process; `count` asks it how many token requests it saw. */
async function startEntraProcess (tenants: string[]): Promise<{ url: string, caPem: string, count: (tenant?: string) => Promise<number>, child: ChildProcess }> {
  const { file, execArgv } = sibling('./entra-process.ts', import.meta.url)
  const child = fork(file, { execArgv })
  child.send({ clientId: CLIENT_ID, secret: SECRET, tenants })
  const ready = await new Promise<{ url: string, caPem: string }>((resolve) => child.once('message', resolve as never))
  const count = async (tenant?: string): Promise<number> => {
    const answer = new Promise<{ count: number }>((resolve) => child.once('message', resolve as never))
    child.send({ type: 'count', tenant })
    return (await answer).count
  }
  return { ...ready, count, child }
}

async function main (): Promise<TenantScaleResult> {
  const tenants = Array.from({ length: TENANTS }, () => randomUUID())
  const cold = randomUUID()
  const entra = await startEntraProcess([...tenants, cold])
  try {
    return await measure(entra, tenants, cold)
  } finally {
    // also on failure: a connected child would keep this process (and npm run bench) waiting
    if (entra.child.connected) entra.child.disconnect()
  }
}

async function measure (entra: Awaited<ReturnType<typeof startEntraProcess>>, tenants: string[], cold: string): Promise<TenantScaleResult> {
  const one = provider(entra.url, entra.caPem)
  await warm(one, [tenants[0]!])
  const rssOne = settledRssMb()

  const many = provider(entra.url, entra.caPem)
  const warmStart = process.hrtime.bigint()
  const warmRetries = await warm(many, tenants)
  const warmSec = Number(process.hrtime.bigint() - warmStart) / 1e9
  const tokenRequests = await entra.count() - 1
  const rssMany = settledRssMb()

  const oneOrder = [tenants[0]!]
  const manyOrder = Array.from({ length: 65_536 }, () => tenants[Math.floor(Math.random() * tenants.length)]!)
  const costOne: number[] = []
  const costMany: number[] = []
  await hitCost(one, oneOrder)
  await hitCost(many, manyOrder)
  for (let r = 0; r < ROUNDS; r++) {
    costOne.push(await hitCost(one, oneOrder))
    costMany.push(await hitCost(many, manyOrder))
  }

  const burst = await Promise.all(Array.from({ length: 500 }, async () => await many.get(cold, 'burst')))
  const burstRequests = await entra.count(cold)

  const c1 = median(costOne)
  const cN = median(costMany)
  const distinct = new Set(burst.map((t) => t.accessToken)).size
  const lines = [
    `tenant-scale (node ${process.version}, real msal-node, simulated Entra ID over loopback TLS)`,
    `  warm ${TENANTS} tenants: ${tokenRequests} token requests in ${warmSec.toFixed(1)} s${warmRetries > 0 ? ` (${warmRetries} transient failure(s) retried after Retry-After)` : ''}`,
    `  RSS after GC: 1 tenant ${rssOne.toFixed(1)} MB, ${TENANTS} tenants ${rssMany.toFixed(1)} MB -> extra ${(rssMany - rssOne).toFixed(1)} MB (target <= 60 MB)`,
    `  cache hit (awaited get, median of ${ROUNDS} x ${HITS}): 1 tenant ${c1.toFixed(0)} ns, ${TENANTS} tenants (random order) ${cN.toFixed(0)} ns -> ${(cN / c1).toFixed(2)}x (target <= 1.1x)`,
    `  cold burst: 500 concurrent requests for one tenant -> ${burstRequests} token request(s), ${distinct} distinct token(s) (target: 1)`
  ]
  one.close()
  many.close()
  return {
    tenants: TENANTS,
    warmTokenRequests: tokenRequests,
    warmRetries,
    warmSec,
    rssOneMb: rssOne,
    rssManyMb: rssMany,
    extraRssMb: rssMany - rssOne,
    hitNsOne: c1,
    hitNsMany: cN,
    hitRatio: cN / c1,
    burstTokenRequests: burstRequests,
    burstDistinctTokens: distinct,
    lines
  }
}

main().then((result) => {
  if (process.send === undefined) console.log(result.lines.join('\n'))
  else process.send(result, () => { process.disconnect() })
}, (err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
