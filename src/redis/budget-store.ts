import { randomBytes } from 'node:crypto'
import type { SharedBudgetStore } from '../limits/types.js'
import type { Verdict, Window } from '../limits/window.js'
import { defineBudgetScripts } from './budget-scripts.js'
import type { SharedRedis } from './connection.js'
import { budgetKeys } from './keys.js'

const CAUSES: ReadonlyArray<Verdict['cause']> = ['none', 'hold', 'tenant', 'client']

/**
 * The replicas' shared budget log on Redis (atomic Lua, Redis's clock). Answers undefined when Redis
 * is down, failed or its breaker is open, so limits/ decides locally.
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

  return {
    async take (tenantId, rateClass, client, windows) {
      return await redis.guard('take', async () => await remote(tenantId, rateClass, client, windows.tenant, windows.client), () => undefined)
    },
    async hold (tenantId, rateClass, ms) {
      await redis.guard('hold', async () => { await redis.client.dgwHold(budgetKeys(redis.prefix, tenantId, rateClass).hold, ms) }, () => {})
    }
  }
}

/** Windows as script arguments: count, then ms/limit pairs. */
function flatten (windows: readonly Window[]): number[] {
  return [windows.length, ...windows.flatMap((w) => [w.ms, w.limit])]
}
