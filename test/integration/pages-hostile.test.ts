import { request as httpRequest } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import t from 'tap'
import { call, ADMIN_TOKEN, TENANT_A, type Answer } from '../helper.js'
import { startOAuthWorld } from '../oauth-helper.js'

/** A form POST from a chosen loopback source address (127.0.0.2 is another peer than 127.0.0.1). */
async function postFrom (base: string, path: string, body: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<{ status: number, text: string, headers: Record<string, unknown> }> {
  const url = new URL(base)
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'POST', localAddress, agent: false, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const cookiesOf = (answer: Answer): string => (answer.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).join('; ')

t.test('pages under hostile input: repeated parameters, sign-in guessing, request ids', async (t) => {
  const world = await startOAuthWorld({
    beforeGateway: async (sim) => { await writeFile(join(dirname(sim.caFile), 'onboarding.key'), 'o'.repeat(40)) },
    config: (base, sim) => ({ ...base, onboarding: { signingKey: { fromFile: join(dirname(sim.caFile), 'onboarding.key') } } })
  })
  t.teardown(async () => { await world.close() })
  const form = await call(world.adminUrl, '/status/sign-in')
  const cookie = cookiesOf(form)
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? ''
  const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', cookie }
  const signIn = async (body: string, from?: string): Promise<{ status: number, text: string, headers: Record<string, unknown> }> => await postFrom(world.adminUrl, '/status/sign-in', body, formHeaders, from)
  const errorsLogged = (): number => world.logs.filter((l) => typeof l.level === 'number' && l.level > 40).length

  await t.test('sign-in: a token field sent twice or as JSON that is not text is a 400 page, no error line', async (t) => {
    const twice = await signIn(`_csrf=${encodeURIComponent(csrf)}&token=a&token=b`)
    t.equal(twice.status, 400)
    t.match(twice.text, 'not well formed')
    t.match(String(twice.headers['content-type']), 'text/html')
    const json = await postFrom(world.adminUrl, '/status/sign-in', JSON.stringify({ _csrf: csrf, token: {} }), { 'content-type': 'application/json', cookie })
    t.equal(json.status, 400)
    t.match(String(json.headers['content-type']), 'text/html')
    t.equal(errorsLogged(), 0, 'nothing logged above warn')
  })

  let link = ''
  await t.test('sign-in guessing: 429 for the guessing address, the right token still works from another', async (t) => {
    for (let i = 0; i < 10; i++) t.equal((await signIn(`_csrf=${encodeURIComponent(csrf)}&token=guess${i}`, '127.0.0.2')).status, 401)
    const locked = await signIn(`_csrf=${encodeURIComponent(csrf)}&token=${ADMIN_TOKEN}`, '127.0.0.2')
    t.equal(locked.status, 429, 'even the right token is refused from the guessing address')
    t.match(String(locked.headers['retry-after']), /^\d+$/)
    t.match(locked.text, 'Too many wrong tokens')
    const ok = await signIn(`_csrf=${encodeURIComponent(csrf)}&token=${ADMIN_TOKEN}`)
    t.equal(ok.status, 303, 'the admin at another address is not locked out')
    const metrics = (await call(world.adminUrl, '/metrics')).text
    t.match(metrics, 'defender_gateway_status_sign_in_refusals_total{reason="wrong_token"} 10')
    t.match(metrics, 'defender_gateway_status_sign_in_refusals_total{reason="too_many_failures"} 1')
    const session = (ok.headers['set-cookie'] as string[]).map((line) => line.split(';')[0]).join('; ')
    const page = await call(world.adminUrl, '/status', { headers: { cookie: session } })
    link = new URL(/href="([^"]+\/onboarding\/contoso\?[^"]+)"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&') ?? 'http://x/').toString()
    t.ok(page.headers['x-request-id'], 'status pages carry x-request-id')
  })

  await t.test('onboarding callback: a parameter sent twice is a 400 page and does not use the state up', async (t) => {
    const twice = await call(world.url, '/onboarding/callback?state=a&state=b')
    t.equal(twice.status, 400)
    t.match(twice.headers['content-type'], 'text/html')
    t.ok(twice.headers['x-request-id'], 'onboarding answers carry x-request-id')
    const target = new URL(link)
    const asked = await call(world.url, target.pathname + target.search)
    t.equal(asked.status, 200)
    t.ok(asked.headers['x-request-id'])
    const state = new URL((/href="(https:[^"]+adminconsent[^"]+)"/.exec(asked.text)?.[1] ?? '').replaceAll('&amp;', '&')).searchParams.get('state') ?? ''
    for (const extra of ['admin_consent=True&admin_consent=True', `admin_consent=True&tenant=${TENANT_A}&tenant=${TENANT_A}`]) {
      const bad = await call(world.url, `/onboarding/callback?${extra}&state=${encodeURIComponent(state)}`)
      t.equal(bad.status, 400, extra)
      t.match(bad.text, 'appears more than once')
    }
    const declined = await call(world.url, `/onboarding/callback?error=access_denied&state=${encodeURIComponent(state)}`)
    t.equal(declined.status, 200, 'the state was not used up by the malformed answers')
    t.match(declined.text, 'Consent was not given')
    const linkTwice = await call(world.url, `${target.pathname}${target.search}&sig=x`)
    t.equal(linkTwice.status, 404, 'a link with sig twice is not valid')
    t.equal(errorsLogged(), 0, 'nothing logged above warn')
  })

  await t.test('the admin listener: x-request-id on every answer', async (t) => {
    for (const path of ['/metrics', '/healthz', '/readyz', '/status/sign-in']) {
      t.ok((await call(world.adminUrl, path)).headers['x-request-id'], path)
    }
    const tenant = await call(world.adminUrl, `/admin/tenants/${TENANT_A}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    t.equal(tenant.status, 200)
    t.ok(tenant.headers['x-request-id'], '/admin/tenants/{t}')
  })
})
