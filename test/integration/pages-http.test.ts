import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import t from 'tap'
import { call, ADMIN_TOKEN, TENANT_A, TENANT_C, type Answer } from '../helper.js'
import { siemToken, startOAuthWorld, RESOURCE, type OAuthWorld } from '../oauth-helper.js'
import { GRAPH_AUDIENCE } from '../sim/index.js'

/** 300 more tenants, none of them consented: what an MSSP's table looks like early on. */
const MANY = Array.from({ length: 300 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `customer-${i}`, permissions: ['Alert.Read.All'] }))

/** The cookies an answer sets, as a Cookie header value. */
function cookiesOf (answer: Answer, jar: Map<string, string> = new Map()): Map<string, string> {
  for (const line of answer.headers['set-cookie'] ?? []) {
    const [pair] = line.split(';')
    const at = (pair ?? '').indexOf('=')
    jar.set((pair ?? '').slice(0, at), (pair ?? '').slice(at + 1))
  }
  return jar
}
/** Tenants of both APIs: one consents normally, one meets an identity path that hands over Defender tokens for Graph. */
const LITWARE = { id: '66666666-6666-4666-8666-666666666666', name: 'litware', permissions: ['Alert.Read.All', 'SecurityAlert.Read.All', 'ThreatHunting.Read.All'] }
const ADATUM = { id: '77777777-7777-4777-8777-777777777777', name: 'adatum', permissions: ['Alert.Read.All', 'SecurityAlert.Read.All'] }
const DEFENDER_API = 'Microsoft Defender for Endpoint API'
const GRAPH_API = 'Microsoft Graph security API'

/** The table row of a page that names `title` (each API is one row of the per-API tables). */
const rowOf = (html: string, title: string): string => html.split('<tr>').find((r) => r.includes(title)) ?? ''

/** The customer's side over plain HTTP: the onboarding link, Accept at the simulated Entra ID, back to the callback. */
async function consentAtEntra (world: OAuthWorld, href: string): Promise<{ asked: string, result: Answer }> {
  const link = new URL(href.replaceAll('&amp;', '&'))
  const asked = (await call(world.url, link.pathname + link.search)).text
  const consent = new URL((/href="(https:[^"]+adminconsent[^"]+)"/.exec(asked)?.[1] ?? '').replaceAll('&amp;', '&'))
  const form = new URLSearchParams({ client_id: consent.searchParams.get('client_id') ?? '', redirect_uri: consent.searchParams.get('redirect_uri') ?? '', state: consent.searchParams.get('state') ?? '', decision: 'accept' })
  const decided = await call(consent.origin, consent.pathname, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), ca: world.sim.ca.certPem })
  const back = new URL(decided.headers.location ?? '')
  return { asked, result: await call(world.url, back.pathname + back.search) }
}

const header = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
/** woodgrove also lists Graph permissions; the simulated tenant grants it SecurityAlert.Read.All only. */
const withGraph = (t: { id: string }): unknown => t.id === TENANT_C ? { ...t, permissions: ['Alert.Read.All', 'Machine.Read.All', 'Machine.Isolate', 'SecurityAlert.Read.All', 'ThreatHunting.Read.All'] } : t

t.test('status pages over plain HTTP: 300 tenants from cached state, forged sessions, clients and regions', async (t) => {
  const world = await startOAuthWorld({
    beforeGateway: async (sim) => { await writeFile(join(dirname(sim.caFile), 'onboarding.key'), 'o'.repeat(40)) },
    config: (base, sim) => ({ ...base, tenants: [...base.tenants.map(withGraph), LITWARE, ADATUM, ...MANY], onboarding: { signingKey: { fromFile: join(dirname(sim.caFile), 'onboarding.key') } } })
  })
  t.teardown(async () => { await world.close() })
  await siemToken(world, TENANT_A)

  // A plain HTTP form post, as a browser sends it: the sign-in page's CSRF cookie and token, then the form.
  const form = await call(world.adminUrl, '/status/sign-in')
  const jar = cookiesOf(form)
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] ?? ''
  const post = async (path: string, fields: Record<string, string>, cookie = header(jar)): Promise<Answer> => await call(world.adminUrl, path, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(fields).toString()
  })
  t.equal((await post('/status/sign-in', { token: ADMIN_TOKEN })).status, 403, 'no CSRF token: refused')
  const signedIn = await post('/status/sign-in', { _csrf: csrf, token: ADMIN_TOKEN })
  t.equal(signedIn.status, 303)
  cookiesOf(signedIn, jar)
  t.match(signedIn.headers['set-cookie']?.join('\n'), /dgw_status=[^;]+; Max-Age=28800; Path=\/status; HttpOnly; SameSite=Strict/)

  const before = world.sim.entra.tokenRequests()
  const page = await call(world.adminUrl, '/status', { headers: { cookie: header(jar) } })
  t.equal(page.status, 200)
  t.equal(page.text.match(/<tr>/g)?.length, 306, 'header and 305 tenants')
  t.equal(world.sim.entra.tokenRequests(), before, 'rendering asked Entra ID nothing')
  t.equal(page.headers['cache-control'], 'no-store')
  t.match(page.headers['content-security-policy'], "default-src 'none'")

  const clients = await call(world.adminUrl, '/status/clients', { headers: { cookie: header(jar) } })
  t.match(clients.text, /<td>siem<br>[\s\S]*?<td>1<\/td>/, 'one gateway token issued to siem')
  t.notMatch(clients.text, world.keys.siem, 'never a key')
  const regions = await call(world.adminUrl, '/status/regions', { headers: { cookie: header(jar) } })
  t.match(regions.text, /<td>eu<\/td>[\s\S]*?healthy/)

  // Hostile sessions: a cookie value without our signature, one signed with another key, none at all.
  const session = jar.get('dgw_status') ?? ''
  for (const cookie of [`dgw_status=${session.split('.').slice(0, 2).join('.')}`, `dgw_status=${session.slice(0, -4)}AAAA`, '']) {
    const refused = await call(world.adminUrl, '/status', { headers: { cookie } })
    t.equal(refused.status, 303, `cookie '${cookie.slice(0, 20)}…': back to sign-in`)
    t.equal(refused.headers.location, '/status/sign-in')
  }
  const forced = await post(`/status/tenants/${TENANT_A}/refresh`, { _csrf: csrf }, `dgw_status=${session.slice(0, -4)}AAAA; _csrf=${jar.get('_csrf') ?? ''}`)
  t.equal(forced.status, 303, 'a refresh without a valid session does nothing')
  t.equal(world.sim.entra.tokenRequests(), before)
  t.notMatch(world.rawLogs.join('\n'), /dgw_status=|_csrf=/, 'no session or CSRF cookie in the logs')

  // A link holder forging `admin_consent=True` over and over: Entra ID is asked once per cool-down window.
  const link = new URL(/href="([^"]+\/onboarding\/customer-7\?[^"]+)"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&') ?? '')
  const forgeries: number[] = []
  for (let i = 0; i < 3; i++) {
    const onboarding = await call(world.url, link.pathname + link.search)
    const state = new URL((/href="(https:[^"]+adminconsent[^"]+)"/.exec(onboarding.text)?.[1] ?? '').replaceAll('&amp;', '&')).searchParams.get('state') ?? ''
    const answer = await call(world.url, `/onboarding/callback?admin_consent=True&tenant=${MANY[7]!.id}&state=${encodeURIComponent(state)}`)
    forgeries.push(answer.status)
  }
  t.same(forgeries, [502, 502, 502], 'no consent behind them: never "Connected"')
  const api = await call(world.url, `/tenants/${MANY[7]!.id}/api/alerts`, { headers: { 'x-api-key': world.keys.siem } })
  t.equal(api.status, 403, 'still not onboarded')
  t.equal(world.sim.entra.tokenRequests(MANY[7]!.id), 1, 'one token request for three forged answers and a call: the refusal was kept')

  await t.test('per API: granted and missing from each API\'s own token, refresh asks both, onboarding acquires both', async (t) => {
    const cookie = header(jar)
    const before = world.sim.entra.tokenRequests(TENANT_C)
    t.equal((await post(`/status/tenants/${TENANT_C}/refresh`, { _csrf: csrf })).status, 303)
    t.equal(world.sim.entra.tokenRequests(TENANT_C) - before, 2, 'Refresh asked Entra ID for a Defender and a Graph token')
    const woodgrove = (await call(world.adminUrl, `/status/tenants/${TENANT_C}?refreshed=1`, { headers: { cookie } })).text
    t.match(woodgrove, 'Tokens refreshed.')
    t.match(rowOf(woodgrove, GRAPH_API), /ok<br><span class="muted">valid until \d{4}-[\s\S]*tag granted">SecurityAlert.Read.All[\s\S]*tag missing">ThreatHunting.Read.All/)
    t.notMatch(rowOf(woodgrove, DEFENDER_API), 'ThreatHunting', 'the Graph permission is missing under Graph, not Defender')
    t.match(rowOf(woodgrove, DEFENDER_API), /tag missing">Machine.Isolate/)

    world.sim.entra.consent.registerRedirectUri(`${world.url}/onboarding/callback`)
    world.sim.entra.setGrants(LITWARE.id, ['SecurityAlert.Read.All'], GRAPH_AUDIENCE)
    const links = (await call(world.adminUrl, '/status', { headers: { cookie } })).text
    const linkOf = (name: string): string => new RegExp(`href="([^"]+/onboarding/${name}\\?[^"]+)"`).exec(links)?.[1] ?? ''
    const litware = await consentAtEntra(world, linkOf('litware'))
    t.match(litware.asked, /<h2>Microsoft Defender for Endpoint API[^<]*<\/h2>\s*<ul>\s*<li><strong>Alert.Read.All/)
    t.match(litware.asked, /<h2>Microsoft Graph security API<\/h2>[\s\S]*ThreatHunting.Read.All<\/strong>: lets the application run advanced hunting/)
    t.equal(litware.result.status, 200)
    t.match(litware.result.text, 'Connected, with permissions missing')
    t.equal(world.sim.entra.tokenRequests(LITWARE.id), 2, 'one token per API, acquired at once')
    t.match(rowOf(litware.result.text, GRAPH_API), /class="ok">connected[\s\S]*tag granted">SecurityAlert.Read.All[\s\S]*tag missing">ThreatHunting.Read.All/)
    t.match(rowOf(litware.result.text, DEFENDER_API), /class="ok">connected[\s\S]*tag granted">Alert.Read.All/)
    t.notMatch(rowOf(litware.result.text, DEFENDER_API), 'tag missing')

    // A hostile identity path: the Graph acquisition comes back with a Defender-audience token.
    world.sim.entra.setGrants(ADATUM.id, ['SecurityAlert.Read.All'], GRAPH_AUDIENCE)
    world.sim.entra.setFault(ADATUM.id, { kind: 'token', audience: RESOURCE, times: 2 })
    const adatum = await consentAtEntra(world, linkOf('adatum'))
    t.match(adatum.result.text, 'Connected to some APIs only')
    t.match(rowOf(adatum.result.text, GRAPH_API), /no access yet[\s\S]*\(wrong-token\)/)
    t.notMatch(rowOf(adatum.result.text, GRAPH_API), /connected|tag granted/, 'Graph is not shown as connected')
    t.match(rowOf(adatum.result.text, DEFENDER_API), /class="ok">connected/)
    const table = (await call(world.adminUrl, '/status', { headers: { cookie } })).text
    const adatumRow = table.split('<tr>').find((r) => r.includes(`>${ADATUM.name}</a>`)) ?? ''
    t.match(adatumRow, /graph:<\/span> failing/)
    t.match(adatumRow, /graph:<\/span> <span class="bad">wrong-token/)
    t.match(adatumRow, /defender:<\/span> ok/)
    t.match(adatumRow, /Microsoft Graph security API:<\/span>\s*<span class="muted">unknown \(no token\)/, 'no Graph grant read from the Defender token')
    for (const html of [woodgrove, litware.result.text, adatum.result.text, table]) t.notOk(html.includes('eyJ') || html.includes(world.keys.siem), 'no token or key on a page')
  })
})
