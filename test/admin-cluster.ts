import type { Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { ADMIN_TOKEN, CLIENT_SECRET } from './helper.js'
import { startGatewayProcess, startOpsWorld, type GatewayProcess, type OpsWorld } from './operations-helper.js'

/** A real 2-worker cluster (`node src/server.ts`), with or without admin.token; stopped on teardown. */
export async function cluster (t: Test, withToken: boolean): Promise<{ ops: OpsWorld, gw: GatewayProcess }> {
  const ops = await startOpsWorld()
  t.teardown(async () => { await ops.close() })
  const base = ops.config()
  const file = await ops.writeConfig()
  const admin = withToken ? { ...base.admin, token: { fromEnv: 'GW_ADMIN' } } : base.admin
  await writeFile(file, stringify({ ...base, server: { ...base.server, workers: 2, drainDelayMs: 0 }, admin }))
  const gw = await startGatewayProcess(file, { GW_SECRET: CLIENT_SECRET, GW_ADMIN: ADMIN_TOKEN })
  t.teardown(async () => {
    gw.child.kill('SIGTERM')
    await gw.exited
  })
  return { ops, gw }
}
