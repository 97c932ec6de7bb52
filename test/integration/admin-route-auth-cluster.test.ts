import t from 'tap'
import { ADMIN_TOKEN, TENANT_A } from '../helper.js'
import { cluster } from '../admin-cluster.js'
import { checkSpellings, sendAll, spellings } from '../admin-spellings.js'

/**
 * Regression (issue 13, item 1), behind the cluster primary: it checked the token on the raw URL too
 * and forwarded the caller's spelling to a worker. A real 2-worker cluster, every spelling over a raw
 * socket to the primary's admin listener.
 */

const right = { authorization: `Bearer ${ADMIN_TOKEN}` }
const wrong = { authorization: 'Bearer not-the-admin-token' }

// Starts gateway processes (each compiles the sources with tsx): on a busy 2-CPU machine that alone can
// take most of tap's default 120 s, so this file gets a wider bound (a bound, not a measured speed).
t.setTimeout(300_000)

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
