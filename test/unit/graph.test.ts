import t from 'tap'
import { GRAPH_PERMISSIONS, GRAPH_RATE_CLASSES, GRAPH_ROUTES } from '../../src/graph/catalogue-data.js'
import { createGraphMatcher, graphTarget, isGraphUrl } from '../../src/graph/path.js'
import { createGraphSide } from '../../src/graph/index.js'
import { apiOfPermission } from '../../src/graph/vocabulary.js'
import { clientRequestId, renderGraphError } from '../../src/errors.js'
import { decideLink } from '../../src/proxy/link-policy.js'
import { rewriteNextLinks } from '../../src/proxy/next-link.js'
import { checkToken, TokenMismatch } from '../../src/tokens/check.js'
import { graphTokenEndpoint } from '../../src/tokens/wiring.js'
import { grantedRoles } from '../../src/token-endpoint/grant.js'
import { jwt } from './token-fakes.js'

const A = '11111111-1111-4111-8111-111111111111'

t.test('catalogue: unique names, security templates, known permissions and rate classes, sources', async (t) => {
  const names = new Set(GRAPH_ROUTES.map((r) => r.name))
  t.equal(names.size, GRAPH_ROUTES.length, 'names are unique (metric labels)')
  for (const route of GRAPH_ROUTES) {
    t.match(route.template, /^\/\{version\}\/security\/[A-Za-z_]/, route.name)
    t.equal(route.api, 'graph')
    t.ok(route.permissions.every((p) => (GRAPH_PERMISSIONS as readonly string[]).includes(p)), `${route.name}: permissions from the Graph vocabulary`)
    t.ok(Object.hasOwn(GRAPH_RATE_CLASSES, route.rateClass), `${route.name}: rate class`)
    t.equal(route.writes, route.method === 'PATCH' || (route.method === 'POST' && route.name !== 'graph.hunting.run'), `${route.name}: writes`)
  }
  for (const required of ['graph.alerts.list', 'graph.alerts.get', 'graph.alerts.update', 'graph.incidents.list', 'graph.incidents.get', 'graph.incidents.update',
    'graph.incidents.comment', 'graph.hunting.run', 'graph.secureScores.list', 'graph.secureScoreControlProfiles.list', 'graph.ti.articles.list', 'graph.ti.hosts.get']) {
    t.ok(names.has(required), required)
  }
  const { readFileSync } = await import('node:fs')
  const source = readFileSync(new URL('../../src/graph/catalogue-data.ts', import.meta.url), 'utf8')
  const unsourced = source.split('\n').filter((line, i, all) => /^\s+(read|write)\(|^\s+\{ name: 'graph\./.test(line) && !/\[(gd|perm\.json|csdl)/.test(all[i - 1] ?? '') && !/\[(gd|perm\.json|csdl)/.test(all[i - 2] ?? '') && !/\[(gd|perm\.json|csdl)/.test(all[i - 3] ?? ''))
  t.same(unsourced, [], 'every route has a source note within the two lines above it (or its group\'s)')
})

t.test('matching: the path after the version; a second version segment or a non-security path matches nothing', async (t) => {
  const match = createGraphMatcher(GRAPH_ROUTES)
  const rows: Array<[string, string[], string | undefined]> = [
    ['GET', ['security', 'alerts_v2'], 'graph.alerts.list'],
    ['GET', ['Security', 'ALERTS_V2'], 'graph.alerts.list'],
    ['GET', ['security', 'alerts_v2', '$count'], 'graph.alerts.list'],
    ['GET', ['security', 'alerts_v2', 'da123_1'], 'graph.alerts.get'],
    ['PATCH', ['security', 'alerts_v2', 'da123_1'], 'graph.alerts.update'],
    ['POST', ['security', 'alerts_v2', 'da123_1', 'comments'], 'graph.alerts.comment'],
    ['POST', ['security', 'runHuntingQuery'], 'graph.hunting.run'],
    ['GET', ['security', 'threatIntelligence', 'hosts', 'contoso.com', 'passiveDns'], 'graph.ti.hosts.passiveDns'],
    ['DELETE', ['security', 'alerts_v2', 'x'], undefined],
    ['GET', ['v1.0', 'security', 'alerts_v2'], undefined],
    ['GET', ['users'], undefined],
    ['GET', ['security', 'cases', 'ediscoveryCases'], undefined],
    ['POST', ['security', 'alerts_v2'], undefined]
  ]
  for (const [method, segments, name] of rows) t.equal(match(method, segments)?.name, name, `${method} ${segments.join('/')}`)
})

t.test('request targets: the tenant layout, the root layout only with a Graph gateway token, unsafe paths refused', async (t) => {
  const ok = graphTarget('/tenants/contoso/graph/v1.0/security/alerts_v2?$top=5&$skiptoken=abc', undefined)
  t.same(ok.ok && { ...ok.target, root: ok.root }, { tenantRef: 'contoso', tenantWritten: 'contoso', upstreamPath: '/v1.0/security/alerts_v2', query: '?$top=5&$skiptoken=abc', segments: ['security', 'alerts_v2'], root: false })
  const root = graphTarget('/beta/security/incidents', A)
  t.same(root.ok && [root.target.tenantRef, root.target.upstreamPath, root.root], [A, '/beta/security/incidents', true])
  for (const bad of ['/v1.0/security/alerts_v2', '/tenants/contoso/graph/v2/security/alerts_v2', '/tenants/contoso/graph/security/alerts_v2',
    '/tenants/contoso/graph/v1.0/security/%2e%2e/users', '/tenants/contoso/graph/v1.0/security/..', '/tenants/contoso/graph/v1.0/security%2falerts_v2',
    '/tenants/contoso/graph/V1.0/security/alerts_v2']) {
    t.equal(graphTarget(bad, undefined).ok, false, bad)
  }
  for (const [url, graph] of [['/tenants/x/graph/v1.0/a', true], ['/tenants/x/GRAPH', true], ['/v1.0/security', true], ['/beta?x', true], ['/tenants/x/api/alerts', false], ['/api/alerts', false], ['/v1.0x', false], ['/tenants/x/graphs/v1.0', false]] as const) {
    t.equal(isGraphUrl(url), graph, url)
  }
})

t.test('nextLink: Graph hosts under /{version}/security are rewritten, everything else removed', async (t) => {
  const side = createGraphSide({ cloud: 'public', graph: { url: 'https://127.0.0.1:9443' } })
  const prefix = 'https://gw.example.com/tenants/contoso/graph'
  const decide = (link: string): string => {
    const d = decideLink(link, side.linkHosts, prefix, side.apiPath)
    return d.action === 'rewrite' ? d.link : d.action === 'keep' ? 'keep' : `remove:${d.reason}`
  }
  t.equal(decide('https://graph.microsoft.com/v1.0/security/alerts_v2?$top=50&$skiptoken=X1'), `${prefix}/v1.0/security/alerts_v2?$top=50&$skiptoken=X1`)
  t.equal(decide('https://127.0.0.1:9443/beta/security/incidents?$skip=50'), `${prefix}/beta/security/incidents?$skip=50`)
  t.equal(decide('https://graph.microsoft.com/v1.0/users?$skiptoken=X'), 'remove:not_api_path')
  t.equal(decide('https://graph.microsoft.com/api/alerts'), 'remove:not_api_path')
  t.equal(decide('https://graph.microsoft.com/v1.0/security/../users'), 'remove:not_api_path')
  t.equal(decide('https://eu.api.security.microsoft.com/v1.0/security/alerts_v2'), 'remove:unknown_host', 'a Defender host is not Graph')
  t.equal(decide('https://graph.microsoft.com.evil.example/v1.0/security/alerts_v2'), 'remove:unknown_host')
  t.equal(decide('https://graph.microsoft.us/v1.0/security/alerts_v2'), 'remove:unknown_host', 'another cloud\'s Graph')
})

t.test('clouds: the Graph host and token scope per cloud, overridable', async (t) => {
  const rows: Array<['public' | 'gcc' | 'gcc-high' | 'dod', string]> = [
    ['public', 'https://graph.microsoft.com'], ['gcc', 'https://graph.microsoft.com'], ['gcc-high', 'https://graph.microsoft.us'], ['dod', 'https://dod-graph.microsoft.us']
  ]
  for (const [cloud, host] of rows) {
    t.equal(createGraphSide({ cloud, graph: {} }).region.url, host, cloud)
    t.same(graphTokenEndpoint({ cloud, graph: {} }), { resource: host, scope: `${host}/.default` }, cloud)
  }
  t.equal(createGraphSide({ cloud: 'dod', graph: { url: 'https://graph-proxy.internal/' } }).region.url, 'https://graph-proxy.internal')
  t.same(graphTokenEndpoint({ cloud: 'public', graph: { resource: 'https://graph.example/' } }), { resource: 'https://graph.example', scope: 'https://graph.example/.default' })
})

t.test('errors: Graph\'s shape with request-id, date and a well-formed client-request-id', async (t) => {
  const body = JSON.parse(renderGraphError('PermissionNotAllowed', 'no', 'req-1', 'corr-1', new Date('2026-11-29T06:00:01.234Z')))
  t.same(body, { error: { code: 'PermissionNotAllowed', message: 'no', innerError: { date: '2026-11-29T06:00:01', 'request-id': 'req-1', 'client-request-id': 'corr-1' } } })
  t.equal(clientRequestId('0f8fad5b-d9cb-469f-a165-70867728950e'), '0f8fad5b-d9cb-469f-a165-70867728950e')
  for (const bad of ['a b', 'x"}', 'x'.repeat(200), ['a', 'b'], undefined]) t.equal(clientRequestId(bad as string), undefined, String(bad))
})

t.test('tokens: a Graph token may name Graph by URI or app id; a Defender token is another resource', async (t) => {
  const expect = { tenantId: A, resource: 'https://graph.microsoft.com', audienceAliases: ['00000003-0000-0000-c000-000000000000'] }
  for (const aud of ['https://graph.microsoft.com', 'https://graph.microsoft.com/', '00000003-0000-0000-c000-000000000000']) {
    t.equal(checkToken({ accessToken: jwt({ tid: A, aud }), expiresOn: 1e13 }, expect, 'entra').aud, aud, aud)
  }
  for (const aud of ['https://api.securitycenter.microsoft.com', 'https://graph.microsoft.us', '00000003-0000-0000-c000-000000000001']) {
    const refused = (() => { try { checkToken({ accessToken: jwt({ tid: A, aud }), expiresOn: 1e13 }, expect, 'entra'); return undefined } catch (err) { return err } })()
    t.ok(refused instanceof TokenMismatch && refused.details.reason === 'audience', aud)
  }
})

t.test('gateway tokens carry the permissions of their own API only', async (t) => {
  const client = { name: 'siem', keySha256: '0'.repeat(64), tenants: ['*'], permissions: ['Alert.Read.All', 'SecurityAlert.Read.All', 'ThreatHunting.Read.All'] }
  const tenant = { id: A, permissions: new Set(['Alert.Read.All', 'SecurityAlert.Read.All']) }
  t.same(grantedRoles(client, tenant), ['Alert.Read.All'])
  t.same(grantedRoles(client, tenant, 'graph'), ['SecurityAlert.Read.All'])
  t.equal(apiOfPermission('securityalert.read.all'), 'graph')
  t.equal(apiOfPermission('Alert.Read.All'), 'defender')
})

t.test('a Graph @odata.deltaLink on Graph\'s host is pointed at the gateway; a hostile one is removed', async (t) => {
  const side = createGraphSide({ cloud: 'public', graph: { url: 'https://127.0.0.1:9443' } })
  const prefix = 'https://gw.example.com/tenants/contoso/graph'
  const rewrite = (link: string): string | null | undefined => {
    const d = decideLink(link, side.linkHosts, prefix, side.apiPath)
    return d.action === 'rewrite' ? d.link : d.action === 'keep' ? undefined : null
  }
  const body = (link: string): Buffer => Buffer.from(JSON.stringify({ value: [], '@odata.deltaLink': link }))
  const out = (link: string): unknown => JSON.parse(rewriteNextLinks(body(link), rewrite).toString())
  t.same(out('https://graph.microsoft.com/v1.0/security/alerts_v2/delta?$deltatoken=D1'), { value: [], '@odata.deltaLink': `${prefix}/v1.0/security/alerts_v2/delta?$deltatoken=D1` })
  t.same(out('https://evil.example.com/v1.0/security/alerts_v2/delta?$deltatoken=D1'), { value: [] })
  t.same(out('https://graph.microsoft.com/v1.0/users/delta?$deltatoken=D1'), { value: [] }, 'off the security path')
})
