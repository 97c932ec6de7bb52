import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import t from 'tap'
import { keyHash } from '../../src/callers/authenticate.js'
import { childEnv } from '../child-env.js'
import { spawnTracked } from '../processes.js'
import { ADMIN_TOKEN, call, GRAPH_ROLES, TENANT_A, TENANT_B, TENANT_C } from '../helper.js'
import { postForm, RESOURCE, SIEM_CLIENT_ID, startOAuthWorld, type OAuthWorld } from '../oauth-helper.js'

const ALERTS_ONLY = 'gk_alerts_only_0123456789abcdefghijklmnop'
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default'

/** The official Graph SDK in a child that trusts the test CA; resolves with its JSON line. */
async function graphSdk (world: OAuthWorld, caFile: string, args: string[], secret: string): Promise<{ items: number, unique: number, huntingRows: number, columns: number }> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', 'test/clients/graph-sdk.ts', ...args], {
    env: childEnv({ NODE_EXTRA_CA_CERTS: caFile, CLIENT_SECRET: secret })
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { err += c.toString() })
  const [code] = await once(child, 'exit')
  if (code !== 0) throw new Error(`graph-sdk exited ${String(code)}: ${err}`)
  return JSON.parse(out.trim())
}

/** Requests the simulated Graph received for one path fragment. */
const graphCalls = (world: OAuthWorld, fragment: string): number => world.sim.graph.received.filter((r) => r.url.includes(fragment)).length

t.test('the Graph security API through the gateway, beside Defender, for the same tenants', async (t) => {
  const world = await startOAuthWorld({
    tls: true,
    config: (base) => ({
      ...base,
      tenants: base.tenants.map((tenant: Record<string, any>) => ({ ...tenant, permissions: [...tenant.permissions, ...GRAPH_ROLES, 'SecurityIncident.Read.All'] })),
      clients: [
        ...base.clients.map((c: Record<string, any>) => c.name === 'ops' || c.name === 'siem' ? { ...c, permissions: [...c.permissions, ...GRAPH_ROLES] } : c),
        { name: 'alerts-only', keySha256: keyHash(ALERTS_ONLY), tenants: ['*'], permissions: ['SecurityAlert.Read.All'] }
      ]
    })
  })
  t.teardown(async () => { await world.close() })
  const caFile = join(dirname(world.sim.caFile), 'gateway-ca.pem')
  await writeFile(caFile, world.caPem)
  const get = async (path: string, key: string, headers: Record<string, string> = {}) => await call(world.url, path, { headers: { 'x-api-key': key, ...headers }, ca: world.caPem })

  // First, while no token of tenant B exists yet: a misrouted identity path must not cross resources.
  t.test('a token of the other resource is refused where it is acquired, both ways', async (t) => {
    world.sim.entra.setFault(TENANT_B, { kind: 'token', audience: RESOURCE, times: 1 })
    const before = world.sim.graph.received.length
    const graph = await get('/tenants/fabrikam/graph/v1.0/security/alerts_v2', world.keys.ops)
    t.equal(graph.status, 503, graph.text)
    t.equal(graph.json().error.code, 'TokenUnavailable')
    t.equal(world.sim.graph.received.length, before, 'nothing reached Graph with a Defender token')
    world.sim.entra.setFault(TENANT_B, { kind: 'token', audience: 'https://graph.microsoft.com', times: 1 })
    const defender = await get('/tenants/fabrikam/api/alerts', world.keys.ops)
    t.equal(defender.status, 503, defender.text)
    t.match(defender.json().error.message, /another resource/)
  })

  t.test('the Graph SDK pages every alerts_v2 item with its PageIterator and runs a hunting query', async (t) => {
    const before = graphCalls(world, '/security/alerts_v2')
    const result = await graphSdk(world, caFile, ['key', world.url, 'contoso'], world.keys.ops)
    t.same(result, { items: 120, unique: 120, huntingRows: 7, columns: 3 })
    t.equal(graphCalls(world, '/security/alerts_v2') - before, 5, '120 items in pages of 25')
  })

  t.test('nextLink points back at the gateway\'s Graph path; client-request-id goes through', async (t) => {
    const answer = await get('/tenants/contoso/graph/v1.0/security/alerts_v2?$top=50', world.keys.ops, { 'client-request-id': 'corr-42' })
    t.equal(answer.status, 200)
    t.match(answer.json()['@odata.nextLink'], new RegExp(`^${world.url}/tenants/contoso/graph/v1\\.0/security/alerts_v2\\?\\$top=50&\\$skiptoken=`))
    t.equal(answer.headers['client-request-id'], 'corr-42', 'Graph echoes it back through the gateway')
    t.equal(world.sim.graph.received.at(-1)?.headers['client-request-id'], 'corr-42')
    t.equal(world.sim.graph.received.at(-1)?.headers['x-api-key'], undefined, 'the caller\'s key never goes upstream')
  })

  t.test('a Graph nextLink to another host, or off /security, is removed', async (t) => {
    t.teardown(() => { world.sim.graph.setLinkBase(undefined) })
    for (const base of ['https://graph.microsoft.com.evil.example', 'https://eu.api.security.microsoft.com', `${world.sim.graph.url}/v1.0/users#`]) {
      world.sim.graph.setLinkBase(base)
      const answer = await get('/tenants/contoso/graph/v1.0/security/alerts_v2?$top=10', world.keys.ops)
      t.equal(answer.status, 200)
      t.equal(answer.json()['@odata.nextLink'], undefined, base)
      t.equal(answer.json().value.length, 10, 'the page itself is kept')
    }
    world.sim.graph.setLinkBase('https://graph.microsoft.com')
    const real = await get('/tenants/contoso/graph/v1.0/security/alerts_v2?$top=10', world.keys.ops)
    t.match(real.json()['@odata.nextLink'], `${world.url}/tenants/contoso/graph/v1.0/security/alerts_v2?`, 'Graph\'s public host is Graph\'s')
  })

  t.test('runHuntingQuery: a body that is not JSON is refused in Graph\'s shape, never forwarded', async (t) => {
    const before = graphCalls(world, 'runHuntingQuery')
    const post = async (type: string, body: string) => await call(world.url, '/tenants/contoso/graph/v1.0/security/runHuntingQuery', {
      method: 'POST', headers: { 'x-api-key': world.keys.ops, 'content-type': type }, body, ca: world.caPem
    })
    const broken = await post('application/json', '{"Query":')
    t.equal(broken.status, 400, broken.text)
    t.equal(broken.json().error.code, 'BadRequest')
    t.type(broken.json().error.innerError['request-id'], 'string', 'Graph\'s error object')
    const weird = await post('text/x-weird', 'DeviceInfo | take 1')
    t.equal(weird.status, 415, weird.text)
    t.equal(weird.json().error.code, 'UnsupportedMediaType')
    t.equal(graphCalls(world, 'runHuntingQuery'), before, 'Graph received neither')
  })

  t.test('a caller allowed only SecurityAlert.Read.All reads alerts_v2 and nothing else', async (t) => {
    t.equal((await get('/tenants/contoso/graph/v1.0/security/alerts_v2', ALERTS_ONLY)).status, 200)
    t.equal((await get(`/tenants/contoso/graph/beta/security/alerts_v2/da${TENANT_A.slice(0, 8)}_00001`, ALERTS_ONLY)).status, 200)
    const before = world.sim.graph.received.length
    for (const [method, path] of [['GET', '/graph/v1.0/security/incidents'], ['POST', '/graph/v1.0/security/runHuntingQuery'], ['PATCH', '/graph/v1.0/security/alerts_v2/x'], ['GET', '/api/alerts']]) {
      const answer = await call(world.url, `/tenants/contoso${path as string}`, { method, headers: { 'x-api-key': ALERTS_ONLY, 'content-type': 'application/json', 'client-request-id': 'c-1' }, body: method === 'GET' ? undefined : '{}', ca: world.caPem })
      t.equal(answer.status, 403, `${method as string} ${path as string}`)
      t.equal(answer.json().error.code, 'PermissionNotAllowed')
    }
    t.equal(world.sim.graph.received.length, before, 'nothing refused was forwarded')
  })

  t.test('gateway errors on Graph routes have Graph\'s shape; only security paths are forwarded', async (t) => {
    const before = world.sim.graph.received.length
    const users = await get('/tenants/contoso/graph/v1.0/users', world.keys.ops, { 'client-request-id': 'corr-7' })
    t.equal(users.status, 403)
    const { error } = users.json()
    t.equal(error.code, 'UnknownRoute')
    t.equal(error.innerError['request-id'], users.headers['x-request-id'])
    t.equal(error.innerError['client-request-id'], 'corr-7')
    t.match(error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/)
    t.equal(error.target, undefined, 'not Defender\'s shape')
    for (const path of ['/tenants/contoso/graph/v1.0/v1.0/security/alerts_v2', '/tenants/contoso/graph/v1.0/securityX/alerts_v2', '/tenants/contoso/graph/v2/security/alerts_v2', '/tenants/contoso/graph/v1.0/security/../users']) {
      const answer = await get(path, world.keys.ops)
      t.ok(answer.status === 400 || answer.status === 403, `${path}: ${answer.status}`)
      t.ok(answer.json().error.innerError !== undefined, 'Graph shape')
    }
    const unauth = await call(world.url, '/tenants/contoso/graph/v1.0/security/alerts_v2', { ca: world.caPem })
    t.equal(unauth.status, 401)
    t.equal(unauth.json().error.code, 'GatewayUnauthenticated')
    t.ok(unauth.json().error.innerError['request-id'])
    t.equal(world.sim.graph.received.length, before, 'none of them reached Graph')
  })

  t.test('consent per resource: a Graph permission the tenant did not grant is PermissionNotGranted naming Graph', async (t) => {
    // woodgrove (tenant C) granted the app SecurityAlert.Read.All only on Graph.
    const answer = await get('/tenants/woodgrove/graph/v1.0/security/incidents', world.keys.ops)
    t.equal(answer.status, 403, answer.text)
    t.equal(answer.json().error.code, 'PermissionNotGranted')
    t.match(answer.json().error.message, /Microsoft Graph application permission SecurityIncident\.Read\.All/)
    const explained = await get(`/tenants/${TENANT_C}/explain?consent=check`, world.keys.ops)
    const graph = explained.json().consent.apis.find((a: { api: string }) => a.api === 'graph')
    t.same(graph.granted, ['SecurityAlert.Read.All'])
    t.ok(graph.missing.includes('SecurityIncident.Read.All'))
    t.ok(explained.json().routes.some((r: { name: string }) => r.name === 'graph.alerts.list'), 'explain lists Graph routes')
    const view = (await call(world.adminUrl, '/admin/tenants/woodgrove', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()
    t.match(view.apis, [{ api: 'defender', token: { ok: true }, missing: ['Machine.Isolate'] }, { api: 'graph', token: { ok: true }, granted: ['SecurityAlert.Read.All'] }], 'the admin tenant view, per API')
    t.ok(view.apis[1].missing.includes('ThreatHunting.Read.All'))
  })

  t.test('Graph rejecting the tenant token: purged, a fresh Graph token, the GET replayed once', async (t) => {
    await get('/tenants/contoso/graph/v1.0/security/incidents', world.keys.ops)
    const asked = world.sim.entra.tokenRequests(TENANT_A)
    world.sim.graph.setFault({ status: 401, times: 1 })
    const answer = await get('/tenants/contoso/graph/v1.0/security/incidents', world.keys.ops)
    t.equal(answer.status, 200, answer.text)
    t.equal(world.sim.entra.tokenRequests(TENANT_A) - asked, 1, 'one new token')
    t.equal(world.sim.entra.lastRequest(TENANT_A)?.scope, GRAPH_DEFAULT, 'for the Graph resource')
  })

  t.test('Graph\'s 429 is passed on and holds that rate class, not the others', async (t) => {
    world.sim.graph.setFault({ status: 429, retryAfter: 30, times: 1 })
    const throttled = await get('/tenants/fabrikam/graph/v1.0/security/alerts_v2', world.keys.ops)
    t.equal(throttled.status, 429)
    t.equal(throttled.json().error.code, 'TooManyRequests', 'Graph\'s own answer')
    const before = world.sim.graph.received.length
    const held = await get('/tenants/fabrikam/graph/v1.0/security/alerts_v2', world.keys.ops)
    t.equal(held.status, 429)
    t.equal(held.json().error.code, 'RateLimited')
    t.ok(Number(held.headers['retry-after']) > 0)
    t.equal(world.sim.graph.received.length, before, 'held at the gateway')
    t.equal((await get('/tenants/fabrikam/graph/v1.0/security/incidents', world.keys.ops)).status, 200, 'incidents have their own budget')
    t.equal((await get('/tenants/fabrikam/api/alerts', world.keys.ops)).status, 200, 'Defender is not held')
  })

  t.test('drop-in: a gateway token for Graph opens /v1.0/security at the root for its tenant only', async (t) => {
    const token = async (scope: string): Promise<string> => {
      const answer = await postForm(world, `/${TENANT_A}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope })
      t.equal(answer.status, 200, 'token issued')
      return answer.json().access_token as string
    }
    const graphToken = await token(GRAPH_DEFAULT)
    const defenderToken = await token(`${RESOURCE}/.default`)
    const bearer = async (path: string, value: string) => await call(world.url, path, { headers: { authorization: `Bearer ${value}` }, ca: world.caPem })
    const root = await bearer('/v1.0/security/alerts_v2?$top=10', graphToken)
    t.equal(root.status, 200, root.text)
    t.match(root.json()['@odata.nextLink'], new RegExp(`^${world.url}/v1\\.0/security/alerts_v2\\?`), 'links keep the root layout')
    t.equal(world.sim.graph.received.at(-1)?.tenant, TENANT_A)
    t.equal((await bearer('/api/alerts', graphToken)).status, 401, 'a Graph token does not open Defender routes')
    t.equal((await bearer('/v1.0/security/alerts_v2', defenderToken)).status, 401, 'a Defender token does not open Graph routes')
    t.equal((await bearer('/api/alerts', defenderToken)).status, 200)
    t.equal((await bearer(`/tenants/${TENANT_B}/graph/v1.0/security/alerts_v2`, graphToken)).status, 403, 'bound to its tenant')
    const sdk = await graphSdk(world, caFile, ['dropin', world.url, TENANT_A, SIEM_CLIENT_ID], world.keys.siem)
    t.same(sdk, { items: 120, unique: 120, huntingRows: 7, columns: 3 }, 'the Graph SDK with @azure/identity, only the hosts changed')
  })
})
