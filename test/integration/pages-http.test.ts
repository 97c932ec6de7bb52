import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import t from 'tap'
import { call, ADMIN_TOKEN, TENANT_A, type Answer } from '../helper.js'
import { siemToken, startOAuthWorld } from '../oauth-helper.js'

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
const header = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')

t.test('status pages over plain HTTP: 300 tenants from cached state, forged sessions, clients and regions', async (t) => {
  const world = await startOAuthWorld({
    beforeGateway: async (sim) => { await writeFile(join(dirname(sim.caFile), 'onboarding.key'), 'o'.repeat(40)) },
    config: (base, sim) => ({ ...base, tenants: [...base.tenants, ...MANY], onboarding: { signingKey: { fromFile: join(dirname(sim.caFile), 'onboarding.key') } } })
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
  t.equal(page.text.match(/<tr>/g)?.length, 304, 'header and 303 tenants')
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
})
