import t from 'tap'
import { budgetKeys, tokenKeys } from '../../src/redis/keys.js'

/** The part of a key Redis Cluster hashes: the first non-empty {...}, else the whole key. */
function hashed (key: string): string {
  const open = key.indexOf('{')
  const close = open < 0 ? -1 : key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}

const T = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'

t.test('keys used together hash alike, so a cluster keeps them in one slot', async (t) => {
  for (const prefix of ['dgw:', 'gw1:', 'a.b-c_d:']) {
    const budget = budgetKeys(prefix, T, 'advancedQuery')
    t.same(new Set([budget.calls, budget.hold, budget.client('SIEM'), budget.client('soar')].map(hashed)), new Set([`${T}|advancedQuery`]), `budget keys with prefix ${prefix}`)
    const token = tokenKeys(prefix, T)
    t.equal(hashed(token.value), T)
    t.equal(hashed(token.lock), T, 'a token and its lock')
  }
  t.not(hashed(budgetKeys('dgw:', T, 'default').calls), hashed(budgetKeys('dgw:', T, 'advancedQuery').calls), 'rate classes of one tenant spread over slots')
})

t.test('the names earlier versions wrote: an upgrade finds its data in place', async (t) => {
  const budget = budgetKeys('dgw:', T, 'default')
  t.same([budget.calls, budget.hold, budget.client('SIEM')], [`dgw:rl:{${T}|default}:calls`, `dgw:rl:{${T}|default}:hold`, `dgw:rl:{${T}|default}:client:siem`])
  t.same(tokenKeys('dgw:', T), { value: `dgw:token:{${T}}`, lock: `dgw:lock:token:{${T}}` })
})
