import t from 'tap'
import { ADMIN_TOKEN, TENANT_A } from '../helper.js'
import { cluster } from '../admin-cluster.js'
import { refused, sendAll, spellings } from '../admin-spellings.js'
import { rawRequest } from '../raw-http.js'

/**
 * Regression (issue 13, item 1), behind the cluster primary without admin.token: the admin routes must
 * not exist at all (encoded spellings passed the primary's raw-URL check and its workers' alike). A real
 * 2-worker cluster, every spelling over a raw socket to the primary's admin listener.
 */

const right = { authorization: `Bearer ${ADMIN_TOKEN}` }

// Starts gateway processes (each compiles the sources with tsx): on a busy 2-CPU machine that alone can
// take most of tap's default 120 s, so this file gets a wider bound (a bound, not a measured speed).
t.setTimeout(300_000)

t.test('cluster primary without admin.token: no admin route exists; probes and the scrape stay', async (t) => {
  const { ops, gw } = await cluster(t, false)
  const list = spellings(new URL(gw.adminUrl).host, 'contoso')
  const answers = [...await sendAll(gw.adminUrl, list, {}), ...await sendAll(gw.adminUrl, list, right)]
  t.same(answers.filter((a) => !refused(a)).map((a) => a.status), [], `all ${answers.length} refused`)
  t.equal(ops.sim.entra.tokenRequests(TENANT_A), 0, 'no Entra call')
  const plain = await rawRequest(gw.adminUrl, 'GET', '/admin/regions', right)
  t.equal(plain.status, 404)
  t.match(plain.text, '"code":"NotFound"')
  for (const path of ['/metrics', '/healthz', '/readyz']) t.equal((await rawRequest(gw.adminUrl, 'GET', path)).status, 200, path)
})
