import { randomBytes } from 'node:crypto'
import type { SharedBudgetStore } from '../limits/types.js'
import type { Verdict, Window } from '../limits/window.js'
import { defineBudgetScripts } from './budget-scripts.js'
import type { SharedRedis } from './connection.js'
import { budgetKeys } from './keys.js'

const CAUSES: ReadonlyArray<Verdict['cause']> = ['none', 'hold', 'tenant', 'client']
/** Calls allowed locally kept for the shared log, at most (the oldest are dropped first). */
const MAX_PENDING = 10_000

/** A call allowed on local state, waiting to be added to the shared log. */
interface Pending { readonly calls: string, readonly client: string, readonly member: string, readonly at: number, readonly tenantMs: number, readonly clientMs: number }

/**
 * The replicas' shared budget log on Redis (atomic Lua, Redis's clock). Answers undefined when Redis
 * is down, failed or its breaker is open, so limits/ decides locally; the calls it then allows are
 * added to the shared log when Redis is back (a failover's new primary never saw them).
 */
export function createRedisBudgetStore (redis: SharedRedis): SharedBudgetStore {
  const replica = randomBytes(6).toString('hex')
  let sequence = 0
  defineBudgetScripts(redis.client)

  async function remote (tenantId: string, rateClass: string, client: string, tenant: readonly Window[], share: readonly Window[]): Promise<Verdict> {
    const keys = budgetKeys(redis.prefix, tenantId, rateClass)
    const member = `${replica}:${++sequence}`
    const [waitMs, cause] = await redis.client.dgwTake(keys.calls, keys.hold, keys.client(client), member, ...flatten(tenant), ...flatten(share))
    return { waitMs, cause: CAUSES[cause] as Verdict['cause'] }
  }

  const pending: Pending[] = []
  let flushing = false
  // Once Redis is used again, the calls allowed meanwhile join the shared log (in order, until one fails).
  async function flush (): Promise<void> {
    if (flushing) return
    flushing = true
    try {
      for (let next = pending[0]; next !== undefined; next = pending[0]) {
        const { calls, client, member, at, tenantMs, clientMs } = next
        if (!await redis.guard('record', async () => { await redis.client.dgwRecord(calls, client, member, at, tenantMs, clientMs); return true }, () => false)) return
        pending.shift()
      }
    } finally {
      flushing = false
    }
  }
  redis.onShared(() => { flush().catch(() => undefined) })

  return {
    note (tenantId, rateClass, client, windows) {
      const keys = budgetKeys(redis.prefix, tenantId, rateClass)
      if (pending.length >= MAX_PENDING) pending.shift()
      pending.push({ calls: keys.calls, client: keys.client(client), member: `${replica}:${++sequence}`, at: Date.now(), tenantMs: longest(windows.tenant), clientMs: longest(windows.client) })
    },
    async take (tenantId, rateClass, client, windows) {
      return await redis.guard('take', async () => await remote(tenantId, rateClass, client, windows.tenant, windows.client), () => undefined)
    },
    async hold (tenantId, rateClass, ms) {
      await redis.guard('hold', async () => { await redis.client.dgwHold(budgetKeys(redis.prefix, tenantId, rateClass).hold, ms) }, () => {})
    }
  }
}

/** The longest window (how long a call counts), 0 for none. */
function longest (windows: readonly Window[]): number {
  return windows.reduce((most, w) => Math.max(most, w.ms), 0)
}

/** Windows as script arguments: count, then ms/limit pairs. */
function flatten (windows: readonly Window[]): number[] {
  return [windows.length, ...windows.flatMap((w) => [w.ms, w.limit])]
}
