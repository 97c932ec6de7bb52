import t from 'tap'
import { createRateBudgets } from '../../src/limits/create-budgets.js'
import type { BudgetWindows, SharedBudgetStore } from '../../src/limits/types.js'

const A = 'aaaaaaaa-0000-4000-8000-00000000000a'
const limits = { maxWaitMs: 0, maxTenants: 10, clientShares: { siem: 0.5 }, defaultClientShare: 1, fallbackShare: 0.5, classes: { default: { perMinute: 8 } } }

/** A store that cannot answer (Redis down, breaker open) and records what it is asked to note. */
function unavailable (): SharedBudgetStore & { noted: Array<[string, string, string, BudgetWindows]> } {
  const noted: Array<[string, string, string, BudgetWindows]> = []
  return {
    noted,
    take: async () => undefined,
    hold: async () => {},
    note (tenantId, rateClass, client, windows) { noted.push([tenantId, rateClass, client, windows]) }
  }
}

t.test('calls allowed on local state are handed to the store for the shared log, refusals are not', async (t) => {
  const store = unavailable()
  const budgets = createRateBudgets(limits, { store })
  const answers = []
  for (let i = 0; i < 4; i++) answers.push((await budgets.take(A, 'default', 'siem')).ok)
  t.same(answers, [true, true, false, false], 'fallbackShare 0.5 of the client\'s share 0.5 of 8: 2 locally')
  t.equal(store.noted.length, 2, 'each allowed call noted once')
  const [tenantId, rateClass, client, windows] = store.noted[0] ?? []
  t.same([tenantId, rateClass, client], [A, 'default', 'siem'])
  t.same(windows?.tenant, [{ ms: 60_000, limit: 8 }, { ms: 3_600_000, limit: 1500 }], 'with the shared (not the fallback) windows')
  t.same(windows?.client, [{ ms: 60_000, limit: 4 }, { ms: 3_600_000, limit: 750 }], 'and the client\'s share of them')
})

t.test('a store without note() still works', async (t) => {
  const budgets = createRateBudgets(limits, { store: { take: async () => undefined, hold: async () => {} } })
  t.ok((await budgets.take(A, 'default', 'other')).ok)
})
