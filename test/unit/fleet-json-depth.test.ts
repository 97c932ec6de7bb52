import t from 'tap'
import { jsonDepthWithin } from '../../src/fleet/upstream.js'

t.test('JSON depth: counts arrays and objects, skips brackets inside strings and escaped quotes', async (t) => {
  const within = (text: string, max: number): boolean => jsonDepthWithin(Buffer.from(text), max)
  t.ok(within('{"value":[{"a":{"b":1}}]}', 4))
  t.notOk(within('{"value":[{"a":{"b":1}}]}', 3))
  t.ok(within('{"value":["[[[[{{{{", "\\"[[[[[["]}', 2), 'brackets in strings, an escaped quote')
  t.ok(within('{"a":"\\\\"}', 1), 'an escaped backslash ends before the closing quote')
  t.notOk(within(`{"value":[${'['.repeat(200_000)}${']'.repeat(200_000)}]}`, 64), '200,000 levels refused')
  t.ok(within(`${'[]'.repeat(100_000)}`, 1), 'many siblings are not depth')
})
