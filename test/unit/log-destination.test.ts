import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, LOG_BUFFER_BYTES, logDestination } from '../../src/observability/logger.js'

/** A logger on a real file, whose periodic flush never fires during a test (an hour). */
function fileLogger (t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-log-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'gateway.log')
  const destination = logDestination(file, 3_600_000)
  const logger = createLogger('info', destination)
  const bytes = (): number => readFileSync(file).length
  const lines = (): Array<Record<string, unknown>> => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
  return { logger, destination, lines, bytes }
}

t.test('access lines are held for one batched write; any other line goes out at once, after them, in order', async (t) => {
  const { logger, lines } = fileLogger(t)
  for (let i = 0; i < 3; i++) logger.info({ client: 'siem', route: 'alerts.list', status: 200, n: i }, 'request')
  t.same(lines(), [], 'three access lines are still held (one write(2) per ~4 KB, not per request)')
  logger.info({ audit: true, client: 'ops', route: 'machines.isolate', decision: 'forwarded' }, 'audit')
  t.same(lines().map((l) => [l.msg, l.n]), [['request', 0], ['request', 1], ['request', 2], ['audit', undefined]],
    'an audit line is written at once, with the access lines before it')
  logger.warn({ reason: 'x' }, 'removed an @odata.nextLink')
  t.equal(lines().length, 5, 'a warning too')
})

t.test('held access lines are written once they fill the buffer, and by flushSync (the exit handler)', async (t) => {
  const { logger, destination, lines, bytes } = fileLogger(t)
  let logged = 0
  while (lines().length === 0 && logged < 1000) {
    logger.info({ client: 'siem', route: 'alerts.list', status: 200, n: logged++ }, 'request')
  }
  const written = lines().length
  t.equal(written, logged, `the first write came after ${logged} lines, with all of them`)
  t.ok(logged > 10 && bytes() >= LOG_BUFFER_BYTES, `${bytes()} bytes in one write`)
  logger.info({ client: 'siem', route: 'alerts.list', status: 200, n: logged++ }, 'request')
  t.equal(lines().length, written, 'the next one is held again')
  destination.flushSync()
  t.equal(lines().length, logged, 'flushSync writes every held line')
  t.same(lines().map((l) => l.n), [...Array(logged).keys()], 'in order')
})

t.test('a message that merely contains "request" is not an access line: written at once', async (t) => {
  const { logger, lines } = fileLogger(t)
  logger.info({ note: 'request' }, 'request rejected')
  logger.info('config reloaded (clients, tenants, extraRoutes)')
  t.equal(lines().length, 2)
})
