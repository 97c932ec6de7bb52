import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { call, startWorld, withKey, ADMIN_TOKEN, TENANT_A, TENANT_C } from '../helper.js'
import Fastify from 'fastify'
import { startBrowser } from '../browser.js'
import { registerStatusPages } from '../../src/pages/status/routes.js'
import { createStatusSessions } from '../../src/pages/status/session.js'

/** A customer tenant in the config that has not consented yet (no grant in the simulated Entra ID). */
const NEW_TENANT = '44444444-4444-4444-8444-444444444444'
/** Another, for the hostile identity path after a consent. */
const SWAPPED = '55555555-5555-4555-8555-555555555555'
const ONBOARDING_KEY = 'onboarding-key-for-the-browser-test-0123456789'

t.test('status and onboarding pages in headless Chromium', async (t) => {
  const world = await startWorld({
    beforeGateway: async (sim) => { await writeFile(join(sim.caFile, '..', 'onboarding.key'), ONBOARDING_KEY) },
    config: (base, sim) => ({
      ...base,
      limits: {}, // Defender's own limits (100/min, 1,500/h): the table shows them
      onboarding: { signingKey: { fromFile: join(sim.caFile, '..', 'onboarding.key') }, stateLifetimeMinutes: 10 },
      tenants: [...base.tenants, { id: NEW_TENANT, name: 'northwind', permissions: ['Alert.Read.All', 'Machine.Read.All'] }, { id: SWAPPED, name: 'tailspin', permissions: ['Alert.Read.All'] }]
    })
  })
  t.teardown(async () => { await world.close() })
  const browser = await startBrowser([{ url: world.sim.entra.url, ca: world.sim.ca.certPem }])
  t.teardown(async () => { await browser.close() })
  world.sim.entra.consent.registerRedirectUri(`${world.url}/onboarding/callback`)
  const page = await browser.newPage()
  // Traffic for one tenant, so its row shows a token and budget use.
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })).status, 200)

  await t.test('sign in with the admin token into an HttpOnly, SameSite=Strict session', async (t) => {
    await page.goto(`${world.adminUrl}/status`)
    t.match(page.url(), /\/status\/sign-in$/, 'not signed in: sent to the sign-in page')
    await page.fill('input[name=token]', 'not-the-admin-token')
    await page.click('button:has-text("Sign in")')
    t.match(await page.textContent('main'), 'That is not the admin token.')
    await page.fill('input[name=token]', ADMIN_TOKEN)
    await page.click('button:has-text("Sign in")')
    t.match(page.url(), /\/status$/)
    const session = (await browser.context.cookies()).find((c) => c.name === 'dgw_status')
    t.ok(session?.httpOnly, 'HttpOnly')
    t.equal(session?.sameSite, 'Strict')
    t.notOk(session?.value.includes(ADMIN_TOKEN), 'the cookie is not the token')
  })

  await t.test('the tenants table reads cached state', async (t) => {
    const contoso = page.locator('tr', { has: page.locator('a', { hasText: 'contoso' }) })
    t.match(await contoso.textContent(), /ok/)
    t.match(await contoso.textContent(), /all 8 granted/)
    t.match(await contoso.textContent(), /1 \/ 100\s*1 \/ 1500/, 'one call this minute and hour, of the limits')
    const northwind = page.locator('tr', { has: page.locator('a', { hasText: 'northwind' }) })
    t.match(await northwind.textContent(), /none/, 'no token cached: no network call at render time')
    t.match(await northwind.textContent(), /0 \/ 100\s*0 \/ 1500/, 'an idle tenant shows its limits')
    t.equal(await page.locator('table tr').count(), 6, 'header and five tenants')
    await browser.shot(page, 'tenants')
  })

  await t.test('refresh a tenant from its page: missing permission shown, per client explained', async (t) => {
    await page.click('a:has-text("woodgrove")')
    const before = world.sim.entra.tokenRequests(TENANT_C)
    await page.click('button:has-text("Refresh tokens now")')
    t.match(page.url(), /refreshed=1$/)
    t.equal(world.sim.entra.tokenRequests(TENANT_C) - before, 1, 'one token request to Entra ID')
    const text = await page.textContent('main') ?? ''
    t.match(text, 'Tokens refreshed.')
    t.match(await page.locator('.tag.missing').allTextContents(), ['Machine.Isolate'])
    t.match(await page.locator('tr', { hasText: 'narrow' }).textContent(), /no/, 'narrow may not use woodgrove')
    t.notOk((await page.content()).includes('eyJ'), 'no token on the page')
    await browser.shot(page, 'tenant')
  })

  await t.test('onboarding: link → what is asked → simulated Entra consent → granted vs configured', async (t) => {
    await page.goto(`${world.adminUrl}/status`)
    const link = await page.locator('tr', { hasText: 'northwind' }).locator('a:has-text("onboarding link")').getAttribute('href')
    t.match(link, `${world.url}/onboarding/northwind?exp=`)
    const customer = await browser.newPage()
    await customer.goto(link as string)
    const asked = await customer.textContent('main') ?? ''
    t.match(asked, 'Alert.Read.All: lets the application read every alert')
    t.notMatch(asked, 'Machine.Isolate', 'only this tenant\'s permissions')
    await browser.shot(customer, 'onboarding')
    await customer.click('a:has-text("Continue to Microsoft")')
    t.match(customer.url(), `${world.sim.entra.url}/${NEW_TENANT}/adminconsent?`)
    await customer.click('button:has-text("Accept")')
    t.match(customer.url(), `${world.url}/onboarding/callback?`)
    t.match(await customer.textContent('h1'), /^Connected$/)
    t.same((await customer.locator('.tag.granted').allTextContents()).sort(), ['Alert.Read.All', 'Machine.Read.All'])
    await browser.shot(customer, 'onboarding-result')
    const callback = customer.url()
    await customer.goto(callback)
    t.match(await customer.textContent('main'), 'This answer was already used once.', 'a replayed state is refused')
    await page.reload()
    t.match(await page.locator('tr', { hasText: 'northwind' }).textContent(), /all 2 granted/, 'the status page shows the new tenant')
    await customer.close()
  })

  await t.test('onboarding refusals: declined, another tenant, tampered state, a stranger without the link', async (t) => {
    const link = await page.locator('tr', { hasText: 'northwind' }).locator('a:has-text("onboarding link")').getAttribute('href') as string
    const customer = await browser.newPage()
    await customer.goto(link)
    await customer.click('a:has-text("Continue to Microsoft")')
    await customer.click('button:has-text("Cancel")')
    t.match(await customer.textContent('h1'), 'Consent was not given')
    t.match(await customer.textContent('main'), 'access_denied, AADSTS65004')

    world.sim.entra.consent.scriptConsent(NEW_TENANT, { landIn: TENANT_A })
    await customer.goto(link)
    await customer.click('a:has-text("Continue to Microsoft")')
    await customer.click('button:has-text("Accept")')
    t.match(await customer.textContent('h1'), 'Consent was given in another organization')
    world.sim.entra.consent.scriptConsent(NEW_TENANT, undefined)

    // Consent given, but the identity path then hands over another tenant's token: never "Connected".
    world.sim.entra.setFault(SWAPPED, { kind: 'token', tenant: TENANT_A, times: 1 })
    await page.goto(`${world.adminUrl}/status`)
    await customer.goto(await page.locator('tr', { hasText: 'tailspin' }).locator('a:has-text("onboarding link")').getAttribute('href') as string)
    await customer.click('a:has-text("Continue to Microsoft")')
    await customer.click('button:has-text("Accept")')
    t.match(await customer.textContent('h1'), 'Consent recorded, but no access yet')
    t.match(await customer.textContent('main'), '(wrong-token)')
    t.notMatch(await customer.textContent('main'), TENANT_A, 'nothing of the other tenant on the page')

    const answer = new URL(`${world.url}/onboarding/callback?admin_consent=True&tenant=${NEW_TENANT}`)
    await customer.goto(answer.toString())
    t.match(await customer.textContent('main'), 'carries no state')
    await customer.goto(link)
    const consentUrl = new URL(await customer.locator('a:has-text("Continue to Microsoft")').getAttribute('href') as string)
    const state = consentUrl.searchParams.get('state') as string
    answer.searchParams.set('state', `${state.slice(0, -2)}AA`)
    await customer.goto(answer.toString())
    t.match(await customer.textContent('main'), 'was changed or made elsewhere')

    const wrongSig = new URL(link)
    wrongSig.pathname = '/onboarding/contoso'
    const refusals = await Promise.all([wrongSig.toString(), `${world.url}/onboarding/northwind`, `${world.url}/onboarding/nobody?exp=9999999999&sig=x`].map(async (url) => await call(world.url, new URL(url).pathname + new URL(url).search)))
    t.same(refusals.map((r) => r.status), [404, 404, 404])
    t.equal(new Set(refusals.map((r) => r.text)).size, 1, 'one answer for every refusal: tenants cannot be listed')
    await customer.close()
  })

  await t.test('XSS: a tenant reference and Entra text are shown, never run', async (t) => {
    const hostile = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    await page.goto(`${world.adminUrl}/status/tenants/${encodeURIComponent(hostile)}`)
    t.match(await page.textContent('main'), hostile, 'shown as text')
    t.equal(await page.evaluate('window.__xss'), undefined, 'not run')
    world.sim.entra.setFault(TENANT_A, { kind: 'status', status: 400, error: hostile, aadsts: 700016, times: 1 })
    await page.goto(`${world.adminUrl}/status/tenants/contoso`)
    await page.click('button:has-text("Refresh tokens now")')
    t.equal(await page.evaluate('window.__xss'), undefined, 'Entra-controlled text is not run')
    await browser.shot(page, 'xss')
    await page.goto(`${world.adminUrl}/status`)
    t.match(await page.locator('tr', { hasText: 'contoso' }).textContent(), /defender: refused\s*defender: not-onboarded/, 'the refusal and its class in the table, per API')
    await browser.shot(page, 'tenants-after')
  })

  await t.test('a cross-site form post without the CSRF token is refused', async (t) => {
    // Another origin on the same host: the browser sends the SameSite cookie, so only the CSRF token stops it.
    const attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<form id="f" method="post" action="${world.adminUrl}/status/tenants/${TENANT_C}/refresh"><input name="x" value="1"></form><script>document.getElementById('f').submit()</script>`)
    })
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { attacker.close() })
    const port = (attacker.address() as { port: number }).port
    const before = world.sim.entra.tokenRequests(TENANT_C)
    const refused = page.waitForResponse((r) => r.url().endsWith('/refresh'))
    await page.goto(`http://127.0.0.1:${port}/`)
    const answer = await refused
    t.equal(answer.status(), 403)
    await page.waitForLoadState()
    t.match(await page.textContent('h1'), 'Form refused')
    t.equal(world.sim.entra.tokenRequests(TENANT_C), before, 'nothing was refreshed')
  })

  await t.test('sign out ends the session', async (t) => {
    await page.goto(`${world.adminUrl}/status`)
    await page.click('button:has-text("Sign out")')
    t.match(page.url(), /\/status\/sign-in$/)
    await page.goto(`${world.adminUrl}/status/clients`)
    t.match(page.url(), /\/status\/sign-in$/)
  })
})

t.test('a tenant named <script> (config is stricter; the pages do not rely on it) is shown, not run', async (t) => {
  const app = Fastify()
  const hostile = '<script>window.__xss=1</script>'
  const sessions = createStatusSessions(ADMIN_TOKEN, 10)
  await registerStatusPages(app, {
    sessions,
    sources: {
      current: () => ({ tenants: [{ id: TENANT_A, name: hostile, permissions: ['Alert.Read.All'] }], clients: [{ name: hostile, keySha256: 'a'.repeat(64), tenants: ['*'], permissions: [] }] }),
      routes: () => [],
      tokenStatus: () => ({ lastError: { kind: 'transient', message: hostile, at: 0 } }),
      usage: () => [],
      region: () => hostile,
      consentUrl: () => `javascript:${hostile}`,
      onboardingUrl: () => undefined,
      now: Date.now
    },
    refresh: async () => {},
    regions: () => ({ configured: hostile, regions: [{ name: hostile, url: hostile, rttMs: 1, available: true, failures: 0, downUntil: null }] }),
    tokensIssued: () => undefined
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close() })
  const browser = await startBrowser()
  t.teardown(async () => { await browser.close() })
  const page = await browser.newPage()
  await page.goto(`${base}/status/sign-in`)
  await page.fill('input[name=token]', ADMIN_TOKEN)
  await page.click('button:has-text("Sign in")')
  for (const path of ['/status', `/status/tenants/${TENANT_A}`, '/status/clients', '/status/regions']) {
    await page.goto(`${base}${path}`)
    t.match(await page.textContent('main'), hostile, `${path}: shown as text`)
    t.equal(await page.evaluate('window.__xss'), undefined, `${path}: not run`)
  }
  await page.goto(`${base}/status`)
  await page.click('a:has-text("consent")')
  t.equal(await page.evaluate('window.__xss'), undefined, 'a javascript: link is not run either (CSP)')
  await browser.shot(page, 'xss-tenant-name')
})
