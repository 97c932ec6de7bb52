import type { Test } from 'tap'
import { Agent, request } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { CLIENT_SECRET, TENANT_A } from './helper.js'
import { startGatewayProcess, startOpsWorld } from './operations-helper.js'

/**
 * Regression (issue 13, item 6): SIGTERM of a 2-worker cluster reset requests in flight, while the
 * single process lost none. Requests are held at the simulated Defender until the gateway drains
 * (an event: every held request arrived, every process logged that it drains), then released.
 */

const IN_FLIGHT = 8

/** Starts a gateway process with `workers`, holds requests in flight, sends SIGTERM, releases them; asserts none is lost. */
export async function drainWhileHeld (t: Test, workers: number): Promise<void> {
  const ops = await startOpsWorld()
  t.teardown(async () => { await ops.close() })
  const base = ops.config()
  const file = await ops.writeConfig()
  // No drain delay: the listener closes while the requests are still held upstream.
  await writeFile(file, stringify({ ...base, server: { ...base.server, workers, drainDelayMs: 0 } }))
  let release: () => void = () => {}
  const until = new Promise<void>((resolve) => { release = resolve })
  let held = 0
  let allHeld: () => void = () => {}
  const arrived = new Promise<void>((resolve) => { allHeld = resolve })
  ops.sim.regions.eu!.setFault({ kind: 'wait', until, held: () => { if (++held === IN_FLIGHT) allHeld() } })
  t.teardown(release)

  const gw = await startGatewayProcess(file, { GW_SECRET: CLIENT_SECRET })
  t.teardown(() => { gw.child.kill('SIGKILL') })
  const url = new URL(gw.url)
  // Keep-alive, as connectors run: each request on a connection of its own, so both workers get some.
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
  t.teardown(() => agent.destroy())
  const results = Array.from({ length: IN_FLIGHT }, async () => await new Promise<string>((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: `/tenants/${TENANT_A}/api/alerts?$top=1`, agent, headers: { 'x-api-key': ops.key } }, (res) => {
      res.resume()
      res.on('end', () => resolve(String(res.statusCode)))
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    req.end()
  }))
  await arrived
  gw.child.kill('SIGTERM')
  const draining = (): number => gw.output().split('\n').filter((l) => l.includes('"msg":"draining')).length
  const expected = workers === 1 ? 1 : workers + 1
  for (let i = 0; i < 3000 && draining() < expected && gw.child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(draining(), expected, 'every process is draining before the held requests are released')
  release()
  t.same(await Promise.all(results), Array(IN_FLIGHT).fill('200'), `all ${IN_FLIGHT} requests in flight at SIGTERM completed`)
  t.equal(await gw.exited, 0, 'and the gateway exited 0')
  if (workers > 1) {
    const served = new Set(gw.output().split('\n').filter((l) => l.includes('"msg":"request"')).map((l) => (JSON.parse(l) as { pid: number }).pid))
    t.equal(served.size, workers, 'requests were in flight on every worker')
  }
}
