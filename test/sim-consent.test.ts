import t from 'tap'
import { startSimWorld } from './sim/index.js'
import { postForm, simRequest } from './sim/client.js'

const CLIENT = '0a0b0c0d-1111-4222-8333-444455556666'
const SECRET = 'sim-consent-secret'
const T1 = '11111111-1111-4111-8111-111111111111'
const T2 = '22222222-2222-4222-8222-222222222222'
const BACK = 'https://gw.example/onboarding/callback'

// The simulated admin-consent page behaves as Entra's does for the cases the gateway relies on.
t.test('simulated admin consent: checks, redirects, grants', async (t) => {
  const world = await startSimWorld({ clientId: CLIENT, clientSecrets: [SECRET], grants: { [T1]: ['Alert.Read.All'] }, regions: ['eu'] })
  t.teardown(async () => { await world.close() })
  const { entra, ca } = world
  const page = (tenant: string, query: Record<string, string>) => simRequest(`${entra.url}/${tenant}/adminconsent?${new URLSearchParams(query).toString()}`, { ca: ca.certPem })
  const decide = (tenant: string, decision: string, state = 's1') => postForm(`${entra.url}/${tenant}/v2.0/adminconsent`, ca.certPem, { client_id: CLIENT, redirect_uri: BACK, state, decision })
  const token = async (tenant: string) => await postForm(`${entra.url}/${tenant}/oauth2/v2.0/token`, ca.certPem, { client_id: CLIENT, client_secret: SECRET, scope: 'https://api.securitycenter.microsoft.com/.default', grant_type: 'client_credentials' })

  const unregistered = await page(T2, { client_id: CLIENT, redirect_uri: BACK, state: 's' })
  t.equal(unregistered.status, 400, 'an unregistered redirect URI: an error page, no redirect')
  t.match(unregistered.text, 'AADSTS50011')
  entra.consent.registerRedirectUri(BACK)
  t.match((await page(T2, { client_id: '00000000-0000-4000-8000-000000000000', redirect_uri: BACK })).text, 'AADSTS700016')
  t.match((await page('not-a-tenant', { client_id: CLIENT, redirect_uri: BACK })).text, 'AADSTS90002')
  const shown = await page(T2, { client_id: CLIENT, redirect_uri: BACK, state: '"><script>x</script>' })
  t.equal(shown.status, 200)
  t.notMatch(shown.text, '<script>x', 'the state is escaped on the page')

  t.equal((await token(T2)).json().error_codes?.[0], 700016, 'not consented yet')
  const cancel = new URL((await decide(T2, 'cancel')).headers.location as string)
  t.same(Object.fromEntries(cancel.searchParams), { error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.', state: 's1' })
  const accept = new URL((await decide(T2, 'accept', 's2')).headers.location as string)
  t.equal(`${accept.origin}${accept.pathname}`, BACK)
  t.same(Object.fromEntries(accept.searchParams), { admin_consent: 'True', tenant: T2, state: 's2' })
  t.equal((await token(T2)).status, 200, 'the next token request succeeds')

  entra.consent.scriptConsent(T2, { landIn: T1, roles: ['Machine.Read.All'] })
  const elsewhere = new URL((await decide(T2, 'accept')).headers.location as string)
  t.equal(elsewhere.searchParams.get('tenant'), T1, 'the hostile case: consent lands in another tenant')
  t.same(entra.consent.consents(), [T2, T1])
})
