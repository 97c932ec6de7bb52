import { request as httpRequest } from 'node:http'
import t from 'tap'
import { call, ADMIN_TOKEN, TENANT_A, type Answer } from '../helper.js'
import { cluster } from '../admin-cluster.js'

/**
 * The status pages behind a cluster's primary (server.workers: 2): forwarded to a worker on the route
 * matched, with the session rule kept on the primary. Before, the primary answered 404 for /status.
 */

// Starts gateway processes (each compiles the sources with tsx): a wider bound than tap's default, not a speed.
t.setTimeout(300_000)

function cookiesOf (answer: Answer, jar: Map<string, string> = new Map()): Map<string, string> {
  for (const line of answer.headers['set-cookie'] ?? []) {
    const [pair = ''] = line.split(';')
    jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
  }
  return jar
}
const header = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
const form = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('cluster primary: status pages forwarded to the workers, never without a session', async (t) => {
  const { ops, gw } = await cluster(t, true)
  const admin = gw.adminUrl

  // No session (or a forged one): the primary sends the browser to sign in and asks no worker.
  for (const [path, cookie] of [['/status', ''], ['/%73tatus', ''], ['/status/tenants/contoso', ''], ['/status/clients', 'dgw_status=abc.123'], ['/status/regions', `dgw_status=${'A'.repeat(22)}.9999999999.forged`]] as const) {
    const refused = await call(admin, path, { headers: { cookie } })
    t.equal(refused.status, 303, `${path}: to the sign-in page`)
    t.equal(refused.headers.location, '/status/sign-in')
    t.equal(refused.headers['x-gateway-worker'], undefined, `${path}: no worker asked`)
  }
  t.equal((await call(admin, '/status/tenants/contoso/refresh', { method: 'POST', headers: form, body: '' })).status, 303)
  t.equal(ops.sim.entra.tokenRequests(TENANT_A), 0, 'a refresh without a session reached no worker')

  // A plain HTTP form sign-in through the primary: the CSRF cookie and token, then the form.
  const page = await call(admin, '/status/sign-in')
  t.equal(page.status, 200)
  t.match(page.headers['content-security-policy'], "default-src 'none'", 'the pages\' security headers are passed on')
  const jar = cookiesOf(page)
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? ''
  const post = async (path: string, fields: Record<string, string>): Promise<Answer> =>
    await call(admin, path, { method: 'POST', headers: { ...form, cookie: header(jar) }, body: new URLSearchParams(fields).toString() })
  t.equal((await post('/status/sign-in', { _csrf: csrf, token: 'not-the-admin-token' })).status, 401)
  t.equal((await post('/status/sign-in', { token: ADMIN_TOKEN })).status, 403, 'no CSRF token: refused by the worker')
  const signedIn = await post('/status/sign-in', { _csrf: csrf, token: ADMIN_TOKEN })
  t.equal(signedIn.status, 303)
  cookiesOf(signedIn, jar)
  t.ok(jar.has('dgw_status'), 'the session cookie is passed on')

  // Guessing through the primary: limited per caller address there (the workers only see the primary's).
  const from = async (localAddress: string, token: string): Promise<{ status: number, headers: Record<string, unknown> }> => await new Promise((resolve, reject) => {
    const url = new URL(admin)
    const body = new URLSearchParams({ _csrf: csrf, token }).toString()
    const req = httpRequest({ host: url.hostname, port: url.port, path: '/status/sign-in', method: 'POST', localAddress, agent: false, headers: { ...form, cookie: header(jar), 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume()
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers }) })
    })
    req.on('error', reject)
    req.end(body)
  })
  const guesses: number[] = []
  for (let i = 0; i < 10; i++) guesses.push((await from('127.0.0.2', `guess-${i}`)).status)
  t.same(guesses, Array(10).fill(401), 'ten wrong tokens from one address')
  const locked = await from('127.0.0.2', ADMIN_TOKEN)
  t.equal(locked.status, 429, 'that address is locked out, even with the right token')
  t.match(String(locked.headers['retry-after']), /^\d+$/)
  t.equal((await from('127.0.0.1', ADMIN_TOKEN)).status, 303, 'the admin at another address is not')

  // Signed in: the pages of both workers (the session is stateless, so either accepts it).
  const workers = new Set<string>()
  for (const path of ['/status', '/%73tatus', '/status/tenants/contoso', '/status/clients']) {
    const answer = await call(admin, path, { headers: { cookie: header(jar) } })
    t.equal(answer.status, 200, path)
    workers.add(String(answer.headers['x-gateway-worker']))
  }
  t.equal(workers.size, 2, 'answered by both workers in turn')

  const refreshed = await post('/status/tenants/contoso/refresh', { _csrf: csrf })
  t.equal(refreshed.status, 303)
  t.equal(refreshed.headers.location, `/status/tenants/${TENANT_A}?refreshed=1`)
  t.equal(ops.sim.entra.tokenRequests(TENANT_A), 2, 'each worker refreshed its own token')
  const tenant = await call(admin, refreshed.headers.location ?? '', { headers: { cookie: header(jar) } })
  t.match(tenant.text, 'Tokens refreshed.')
  t.notOk(tenant.text.includes('eyJ') || tenant.text.includes(ADMIN_TOKEN), 'no token on the page')

  // Sign-out is remembered on the primary: the old cookie is refused whichever worker would answer.
  const session = header(jar)
  t.equal((await call(admin, '/status/sign-out', { method: 'POST', headers: { ...form, cookie: session }, body: '' })).status, 403, 'no CSRF token: nobody is signed out')
  t.equal((await call(admin, '/status', { headers: { cookie: session } })).status, 200, 'still signed in')
  t.equal((await post('/status/sign-out', { _csrf: csrf })).status, 303)
  for (let i = 0; i < 2; i++) {
    const after = await call(admin, '/status', { headers: { cookie: session } })
    t.equal(after.status, 303, 'signed out')
    t.equal(after.headers['x-gateway-worker'], undefined)
  }
  for (const path of ['/metrics', '/healthz', '/readyz', '/status/sign-in', '/status']) t.ok((await call(admin, path)).headers['x-request-id'], `${path}: x-request-id on the primary`)
  t.notOk(gw.output().includes(ADMIN_TOKEN), 'the admin token is never logged')
})
