import t from 'tap'
import { pino } from 'pino'
import { LazyRequestLogger } from '../../src/observability/request-logger.js'
import { loggerOptions } from '../../src/observability/logger.js'

function rootLogger (lines: string[]): pino.Logger {
  return pino(loggerOptions('info'), { write (line: string) { lines.push(line) } })
}

t.test('the child is built on the first line, once, and writes what a pino child writes', async (t) => {
  const lines: string[] = []
  const root = rootLogger(lines)
  let children = 0
  const child = root.child.bind(root)
  root.child = ((...args: Parameters<typeof child>) => { children++; return child(...args) }) as typeof root.child
  const lazy = new LazyRequestLogger(root, { requestId: 'r-1' }, {})
  t.equal(children, 0, 'nothing built for a request that does not log')
  t.equal(lazy.level, 'info')
  t.ok(lazy.isLevelEnabled('warn'))
  t.notOk(lazy.isLevelEnabled('debug'))
  lazy.debug('below the level')
  lazy.warn({ reason: 'x' }, 'one')
  lazy.error({ token: 'secret-value' }, 'two')
  t.equal(children, 1, 'built once, on the first call')
  const plain: string[] = []
  rootLogger(plain).child({ requestId: 'r-1' }).warn({ reason: 'x' }, 'one')
  t.same(lines[0]?.replace(/"time":"[^"]+"/, ''), plain[0]?.replace(/"time":"[^"]+"/, ''), 'the same line as a pino child')
  t.match(lines[1], /"token":"\[redacted\]"/, 'redaction still applies')
  t.equal(lines.length, 2)
})

t.test('a level given to the child is the child\'s', async (t) => {
  const lazy = new LazyRequestLogger(rootLogger([]), { requestId: 'r-2' }, { level: 'debug' })
  t.equal(lazy.level, 'debug')
  t.ok(lazy.isLevelEnabled('debug'))
})
