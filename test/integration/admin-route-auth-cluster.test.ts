import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { ADMIN_TOKEN, CLIENT_SECRET, TENANT_A } from '../helper.js'
import { startGatewayProcess, startOpsWorld, type GatewayProcess, type OpsWorld } from '../operations-helper.js'
import { checkSpellings, refused, sendAll, spellings } from '../admin-spellings.js'
import { rawRequest } from '../raw-http.js'

/**
 * Regression (issue 13, item 1), behind the cluster primary: it checked the token on the raw URL too
 * and forwarded the caller's spelling to a worker. A real 2-worker cluster, every spelling over a raw
 * socket to the primary's admin listener.
 */

const right = { authorization: `Bearer ${ADMIN_TOKEN}` }
const wrong = { authorization: 'Bearer not-the-admin-token' }

async function cluster (t: Test, withToken: boolean): Promise<{ ops: OpsWorld, gw: GatewayProcess }> {
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

t.test('cluster primary: no spelling of an admin route is served or forwarded without the admin token', async (t) => {
  const { ops, gw } = await cluster(t, true)
  const list = spellings(new URL(gw.adminUrl).host, 'contoso')
  const without = await sendAll(gw.adminUrl, list, {})
  const wrongToken = await sendAll(gw.adminUrl, list, wrong)
  t.equal(ops.sim.entra.tokenRequests(TENANT_A), 0, 'no Entra call: no refresh spelling reached a worker')
  t.notOk([...without, ...wrongToken].some((a) => a.text.includes(TENANT_A) || a.text.includes('x-gateway-worker')), 'no worker answered')
  const withToken = await sendAll(gw.adminUrl, list, right)
  checkSpellings(t, list, without, wrongToken, withToken)
  const served = list.filter((_s, i) => withToken[i]!.status === 200).map((s) => `${s.method} ${s.target}`)
  t.ok(served.includes('POST /%61dmin/tenants/contoso/refresh'), 'an encoded spelling that routes is served with the token (forwarded as the route it matched)')
  t.ok(served.some((s) => s.startsWith('GET http://')), 'and so is an absolute-form target')
})

t.test('cluster primary without admin.token: no admin route exists; probes and the scrape stay', async (t) => {
  const { ops, gw } = await cluster(t, false)
  const list = spellings(new URL(gw.adminUrl).host, 'contoso')
  const answers = [...await sendAll(gw.adminUrl, list, {}), ...await sendAll(gw.adminUrl, list, right)]
  t.same(answers.filter((a) => !refused(a)).map((a) => a.status), [], `all ${answers.length} refused`)
  t.equal(ops.sim.entra.tokenRequests(TENANT_A), 0, 'no Entra call')
  const plain = await rawRequest(gw.adminUrl, 'GET', '/admin/regions', right)
  t.equal(plain.status, 403)
  t.match(plain.text, '"code":"UnknownRoute"')
  for (const path of ['/metrics', '/healthz', '/readyz']) t.equal((await rawRequest(gw.adminUrl, 'GET', path)).status, 200, path)
})
