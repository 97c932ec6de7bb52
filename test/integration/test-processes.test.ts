import t from 'tap'
import { createServer } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { CLIENT_SECRET } from '../helper.js'
import { groupMembers } from '../processes.js'
import { startGatewayProcess, startOpsWorld, type OpsWorld } from '../operations-helper.js'

// Regression (issue 13 item 13): when a gateway's start timed out, the helper threw without killing it,
// and teardowns SIGKILLed only a cluster's primary: a 3-process cluster stayed orphaned after the run.

/** True while any live process is left in the process group `pgid`. */
const groupAlive = (pgid: number): boolean => groupMembers(pgid).length > 0

let ops: OpsWorld
t.before(async () => { ops = await startOpsWorld() })
t.teardown(async () => { await ops.close() })

t.test('a cluster whose start times out is killed with every process of its group', async (t) => {
  // The API port is taken: the primary keeps restarting workers that never listen.
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { blocker.close() })
  const file = await ops.writeConfig()
  const base = ops.config()
  await writeFile(file, stringify({ ...base, server: { ...base.server, port: (blocker.address() as { port: number }).port, workers: 2 } }))
  const rejected = await startGatewayProcess(file, { GW_SECRET: CLIENT_SECRET }, { startTimeoutMs: 3000 }).then(() => undefined, (err: Error) => err)
  t.match(rejected?.message, /no gateway start within 3000 ms/, 'the start failed')
  const pgid = Number(/pgid (\d+)/.exec(rejected?.message ?? '')?.[1])
  t.ok(pgid > 0, 'the error names the process group it killed')
  t.notOk(groupAlive(pgid), 'no process of the group outlives the failed start')
})

t.test('stop() kills a running cluster\'s workers, not only its primary', async (t) => {
  const file = await ops.writeConfig()
  const base = ops.config()
  await writeFile(file, stringify({ ...base, server: { ...base.server, workers: 2 } }))
  const gw = await startGatewayProcess(file, { GW_SECRET: CLIENT_SECRET })
  t.teardown(async () => { await gw.stop() })
  await gw.waitFor((out) => out.split('\n').filter((l) => l.includes('"worker listening"')).length >= 2, 'two workers')
  const pgid = gw.child.pid as number
  t.equal(groupMembers(pgid).length, 3, 'primary and two workers run in one group')
  await gw.stop()
  t.notOk(groupAlive(pgid), 'primary and both workers are gone')
})
