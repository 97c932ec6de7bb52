import t from 'tap'
import { createServer } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { CLIENT_SECRET } from '../helper.js'
import { runCli, startOpsWorld } from '../operations-helper.js'

/** server.workers when workers cannot start at all (its own file: the backoff takes ~16 s by design). */

t.test('workers that cannot start are retried with a backoff, then the primary gives up with exit 1', async (t) => {
  const ops = await startOpsWorld()
  t.teardown(async () => { await ops.close() })
  // The API port is taken: every worker fails to listen, as after a bad deployment.
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { blocker.close() })
  const port = (blocker.address() as { port: number }).port
  const file = await ops.writeConfig()
  const base = ops.config()
  await writeFile(file, stringify({ ...base, server: { ...base.server, port, workers: 2 } }))
  const { code, stdout } = await runCli(['serve', '--config', file], { GW_SECRET: CLIENT_SECRET })
  t.equal(code, 1, 'a failed start, not a crash loop that looks alive')
  const out = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
  const delays = out.filter((l) => l.msg?.startsWith('worker exited unexpectedly')).map((l) => l.restartInMs as number)
  t.same(delays, [250, 500, 1000, 2000, 4000, 8000], 'each replacement waited twice as long')
  t.match(out.find((l) => l.level === 60), { role: 'primary', streak: 7 }, 'then one fatal line')
  t.notOk(stdout.includes('defender-gateway listening'))
})
