import t from 'tap'
import { createInFlight } from '../../src/pipeline/in-flight.js'

t.test('in-flight caps: per client first, then per tenant; a refusal takes nothing', async (t) => {
  const f = createInFlight({ perClient: 2, perTenant: 2 })
  const steps: Array<[string, string, string | undefined]> = [
    ['greedy', 'A', undefined],
    ['greedy', 'B', undefined],
    ['greedy', 'A', 'client'],
    ['greedy', 'C', 'client'],
    ['other', 'A', undefined],
    ['third', 'A', 'tenant'],
    ['third', 'B', undefined]
  ]
  for (const [client, tenant, refusal] of steps) t.equal(f.take(client, tenant), refusal, `${client} → ${tenant}`)
  t.equal(f.total(), 4)
  f.release('greedy', 'A')
  t.equal(f.take('third', 'A'), undefined, 'a released slot is free again, for the tenant too')
  t.equal(f.take('greedy', 'C'), undefined, 'and for the client')
  t.equal(f.take('other', 'A'), 'tenant', 'tenant A holds other + third')
  t.equal(f.total(), 5)
  for (const [c, ten] of [['greedy', 'B'], ['greedy', 'C'], ['third', 'B'], ['third', 'A'], ['other', 'A']]) f.release(c!, ten!)
  t.equal(f.total(), 0, 'every slot given back')
})
