import t from 'tap'
import { call, startWorld, ADMIN_TOKEN, TENANT_A } from '../helper.js'
import { checkSpellings, refused, sendAll, spellings } from '../admin-spellings.js'
import { rawRequest } from '../raw-http.js'

/**
 * Regression (issue 13, item 1): the admin token was checked on `request.url.startsWith('/admin/')`
 * while the router decodes the path and routes absolute-form targets, so `GET /%61dmin/regions` answered
 * every tenant and `POST /%61dmin/tenants/x/refresh` forced Entra calls without a token. Every spelling
 * goes over a raw socket, as written.
 */

const right = { authorization: `Bearer ${ADMIN_TOKEN}` }
const wrong = { authorization: `Bearer ${ADMIN_TOKEN}x` }

t.test('admin route spellings: none reaches an admin handler without the admin token, and none calls Entra', async (t) => {
  const world = await startWorld()
  t.teardown(async () => { await world.close() })
  const list = spellings(new URL(world.adminUrl).host, 'contoso')
  const before = world.sim.entra.tokenRequests(TENANT_A)
  const without = await sendAll(world.adminUrl, list, {})
  const wrongToken = await sendAll(world.adminUrl, list, wrong)
  t.equal(world.sim.entra.tokenRequests(TENANT_A), before, 'no token request for the tenant: no refresh spelling reached its handler')
  t.notOk([...without, ...wrongToken].some((a) => a.text.includes(TENANT_A)), 'no answer names the tenant')
  const withToken = await sendAll(world.adminUrl, list, right)
  checkSpellings(t, list, without, wrongToken, withToken)
  // Unknown admin paths: 404 NotFound with the token; without it the same 401 as an existing admin route.
  const unknown = await call(world.adminUrl, '/admin/nothing-here', { headers: right })
  t.equal(unknown.status, 404)
  t.match(unknown.json(), { error: { code: 'NotFound', target: unknown.headers['x-request-id'] } })
  for (const headers of [{}, wrong]) {
    const probe = await call(world.adminUrl, '/admin/nothing-here', { headers })
    const existing = await call(world.adminUrl, '/admin/regions', { headers })
    t.equal(probe.status, 401, 'an unknown path without the token: 401')
    t.same({ status: probe.status, code: probe.json().error.code, message: probe.json().error.message }, { status: existing.status, code: existing.json().error.code, message: existing.json().error.message }, 'alike to an existing admin route')
  }
  const served = list.filter((_s, i) => withToken[i]!.status === 200).map((s) => `${s.method} ${s.target}`)
  t.ok(served.includes('GET /%61dmin/regions'), 'the router does read /%61dmin as /admin: the check holds there too')
  t.ok(served.some((s) => s.startsWith('GET http://')), 'and routes absolute-form targets by their path')
  t.ok(world.sim.entra.tokenRequests(TENANT_A) > before, 'with the token the refresh spellings that route do reach Entra')
})

t.test('admin route spellings without admin.token: the admin routes do not exist, probes and scrape stay', async (t) => {
  const world = await startWorld({ config: (base) => ({ ...base, admin: { host: '127.0.0.1', port: 0 } }) })
  t.teardown(async () => { await world.close() })
  const list = spellings(new URL(world.adminUrl).host, 'contoso')
  const answers = [...await sendAll(world.adminUrl, list, {}), ...await sendAll(world.adminUrl, list, right)]
  t.same(answers.filter((a) => !refused(a)).map((a) => a.status), [], `all ${answers.length} refused`)
  t.equal(world.sim.entra.tokenRequests(TENANT_A), 0, 'no Entra call')
  const plainAnswer = await call(world.adminUrl, '/admin/regions', { headers: right })
  t.equal(plainAnswer.status, 404)
  t.match(plainAnswer.json(), { error: { code: 'NotFound', target: plainAnswer.headers['x-request-id'] } }, 'in the gateway\'s error shape')
  t.match(plainAnswer.json().error.message, 'set admin.token')
  for (const path of ['/metrics', '/healthz', '/readyz']) t.equal((await rawRequest(world.adminUrl, 'GET', path)).status, 200, path)
})
