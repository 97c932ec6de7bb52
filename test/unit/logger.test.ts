import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger, isoTime } from '../../src/observability/logger.js'

t.test('log time: the same ISO 8601 text as Date#toISOString, across seconds, in any order', async (t) => {
  const base = Date.UTC(2026, 10, 28, 23, 59, 58, 0)
  const times = [base, base + 1, base + 999, base + 1000, base + 1999, base + 2000, base + 7, base + 86_400_000 + 42, base - 1, Date.UTC(2027, 0, 1, 0, 0, 0, 5)]
  for (const now of times) t.equal(isoTime(now), `,"time":"${new Date(now).toISOString()}"`, new Date(now).toISOString())
})

t.test('every log line carries a parseable time', async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb() } })
  const before = Date.now()
  createLogger('info', sink).info('hello')
  const time = Date.parse(JSON.parse(lines[0]!).time)
  t.ok(time >= before && time <= Date.now() + 1)
})
