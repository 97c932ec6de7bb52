import t from 'tap'
import { createServer } from 'node:https'
import { verify, createPublicKey } from 'node:crypto'
import { startSimWorld, startDefenderRegion } from './sim/index.js'
import { simRequest, postForm } from './sim/client.js'
import type { SimResponse } from './sim/client.js'

const CLIENT = '11111111-2222-3333-4444-555555555555'
const SECRET = 's3cret~value'
const T1 = 'aaaaaaaa-0000-4000-8000-000000000001'
const T2 = 'bbbbbbbb-0000-4000-8000-000000000002'
const T3 = 'cccccccc-0000-4000-8000-000000000003'
const T4 = 'dddddddd-0000-4000-8000-000000000004'
const AUD = 'https://api.securitycenter.microsoft.com'
const ALL = ['Alert.ReadWrite.All', 'Machine.Read.All', 'Machine.Isolate', 'Ti.ReadWrite.All', 'AdvancedQuery.Read.All',
  'Software.Read.All', 'Vulnerability.Read.All']

const world = await startSimWorld({
  clientId: CLIENT,
  clientSecrets: [SECRET],
  grants: { [T1]: ALL, [T2]: ['alert.read.all'], [T3]: ['Machine.Read.All'], [T4]: ALL }
})
t.teardown(async () => await world.close())
const ca = world.ca.certPem
const { entra } = world
const eu = world.regions.eu!

const form = (over: Record<string, string> = {}): Record<string, string> =>
  ({ client_id: CLIENT, client_secret: SECRET, scope: `${AUD}/.default`, grant_type: 'client_credentials', ...over })
const tokenUrl = (tenant: string): string => `${entra.url}/${tenant}/oauth2/v2.0/token?client-request-id=abc`
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')

async function token (tenant: string): Promise<string> {
  const res = await postForm(tokenUrl(tenant), ca, form())
  if (res.status !== 200) throw new Error(res.text)
  return res.json().access_token
}

const tokens: Record<string, string> = {}
for (const tn of [T1, T2, T3, T4]) tokens[tn] = await token(tn)

async function api (path: string, tenant = T1, extra: { method?: string, body?: unknown, base?: string, headers?: Record<string, string> } = {}): Promise<SimResponse> {
  return await simRequest(`${extra.base ?? eu.url}${path}`, {
    ca,
    method: extra.method ?? 'GET',
    headers: { authorization: `Bearer ${tokens[tenant]!}`, 'content-type': 'application/json', ...extra.headers },
    ...(extra.body !== undefined ? { body: JSON.stringify(extra.body) } : {}),
    decompress: true
  })
}

const errCode = (res: SimResponse): number => res.json().error_codes[0]

t.test('CA-issued certificate is trusted only with the CA', async t => {
  const cert = await world.ca.issueServerCert()
  const srv = createServer({ key: cert.keyPem, cert: cert.certPem }, (_q, r) => r.end('hi'))
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  t.equal((await simRequest(`https://127.0.0.1:${port}/`, { ca })).text, 'hi')
  t.equal((await simRequest(`https://localhost:${port}/`, { ca })).text, 'hi')
  await t.rejects(simRequest(`https://127.0.0.1:${port}/`, { ca: (await world.ca.issueServerCert()).certPem }))
  await new Promise(resolve => srv.close(resolve))
})

t.test('entra issues verifiable RS256 tokens and counts them', async t => {
  entra.resetCounts()
  const res = await postForm(tokenUrl(T1.toUpperCase()), ca, form())
  t.equal(res.status, 200)
  const body = res.json()
  t.match(body, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 })
  const [h, p, s] = body.access_token.split('.')
  t.ok(verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey(entra.publicKeyPem), Buffer.from(s, 'base64url')))
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
  t.match(claims, { aud: AUD, tid: T1, iss: `https://sts.windows.net/${T1}/`, appid: CLIENT, roles: ALL })
  t.equal(claims.exp - claims.iat, 3599)
  t.not(body.access_token, tokens[T1])
  t.equal(entra.tokenRequests(), 1)
  t.equal(entra.issued(T1), 1)
  t.equal(entra.lastRequest(T1)?.client_secret, SECRET)
  const assertion = `${b64({ alg: 'PS256' })}.${b64({ iss: CLIENT, sub: CLIENT })}.c2ln`
  const viaCert = await postForm(tokenUrl(T1), ca, form({
    client_secret: '', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion
  }))
  t.equal(viaCert.status, 200)
  const keys = (await simRequest(`${entra.url}/common/discovery/keys`, { ca })).json().keys
  t.equal(keys[0].kty, 'RSA')
  const oidc = (await simRequest(`${entra.url}/${T1}/v2.0/.well-known/openid-configuration`, { ca })).json()
  t.equal(oidc.token_endpoint, `${entra.url}/${T1}/oauth2/v2.0/token`)
})

t.test('entra error codes', async t => {
  const cases: Array<[string, Record<string, string>, number, string, number]> = [
    ['contoso.com', {}, 400, 'invalid_request', 90002],
    [T1, { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    [T1, { client_id: 'other' }, 400, 'unauthorized_client', 700016],
    ['eeeeeeee-0000-4000-8000-000000000009', {}, 400, 'unauthorized_client', 700016],
    [T1, { client_secret: 'wrong' }, 401, 'invalid_client', 7000215],
    [T1, { scope: `${AUD}//.default` }, 400, 'invalid_scope', 500011],
    [T1, { client_secret: '', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'x.y' }, 401, 'invalid_client', 700027]
  ]
  for (const [tenant, over, status, error, code] of cases) {
    const res = await postForm(tokenUrl(tenant), ca, form(over))
    t.equal(res.status, status, `${error} ${code}`)
    const body = res.json()
    t.match(body, { error, error_codes: [code], correlation_id: 'abc', trace_id: /^[0-9a-f-]{36}$/ })
    t.match(body.error_description, new RegExp(`^AADSTS${code}: `))
  }
  const noSecret = form()
  delete noSecret.client_secret
  t.equal(errCode(await postForm(tokenUrl(T1), ca, noSecret)), 7000215)
})

t.test('entra faults', async t => {
  entra.setFault(T1, { kind: 'status', status: 429, retryAfter: 7, times: 1 })
  const throttled = await postForm(tokenUrl(T1), ca, form())
  t.equal(throttled.status, 429)
  t.equal(throttled.headers['retry-after'], '7')
  t.equal(throttled.json().error, 'temporarily_unavailable')
  t.equal((await postForm(tokenUrl(T1), ca, form())).status, 200, 'times: 1 cleared the fault')
  entra.setFault('*', { kind: 'status', status: 400, aadsts: 700016, error: 'unauthorized_client' })
  t.equal(errCode(await postForm(tokenUrl(T2), ca, form())), 700016)
  entra.setFault('*', { kind: 'empty' })
  t.equal((await postForm(tokenUrl(T2), ca, form())).text, '')
  entra.setFault('*', { kind: 'non-json', status: 503 })
  const html = await postForm(tokenUrl(T2), ca, form())
  t.equal(html.status, 503)
  t.match(html.headers['content-type'], /text\/html/)
  entra.setFault('*', { kind: 'latency', ms: 150 })
  const start = Date.now()
  t.equal((await postForm(tokenUrl(T2), ca, form())).status, 200)
  t.ok(Date.now() - start >= 140)
  entra.setFault('*', { kind: 'hang' })
  await t.rejects(simRequest(tokenUrl(T2), { ca, method: 'POST', body: '', timeoutMs: 200 }), { code: 'ETIMEDOUT' })
  entra.setFault('*', undefined)
  entra.setTokenLifetime(1)
  t.equal((await postForm(tokenUrl(T2), ca, form())).json().expires_in, 1)
  entra.setTokenLifetime(3599)
})

t.test('defender auth: probe, 401, 403, audience', async t => {
  t.same((await simRequest(`${eu.url}/api`, { ca })).json(), { status: 'ok', region: 'eu' })
  const none = await simRequest(`${eu.url}/api/alerts`, { ca })
  t.equal(none.status, 401)
  t.match(none.json(), { error: { code: 'Unauthorized', target: /^[0-9a-f-]{36}$/ } })
  const tampered = tokens[T1]!.slice(0, -4) + 'AAAA'
  t.equal((await simRequest(`${eu.url}/api/alerts`, { ca, headers: { authorization: `Bearer ${tampered}` } })).status, 401)
  entra.setTokenLifetime(-5)
  const expired = await token(T1)
  entra.setTokenLifetime(3599)
  t.match((await simRequest(`${eu.url}/api/alerts`, { ca, headers: { authorization: `Bearer ${expired}` } })).json(),
    { error: { code: 'Unauthorized', message: /expired/ } })
  const other = await startDefenderRegion({ name: 'x', ca: world.ca, entraPublicKeyPem: entra.publicKeyPem, audience: 'https://other/' })
  t.equal((await api('/api/alerts', T1, { base: other.url })).status, 401, 'aud mismatch')
  await other.close()
  t.equal((await api('/api/alerts', T2)).status, 200, 'lower-case role accepted')
  const forbidden = await api('/api/machines', T2)
  t.equal(forbidden.status, 403)
  t.equal(forbidden.json().error.code, 'Forbidden')
  t.equal((await api(`/api/alerts/da${T2.slice(0, 8)}_1`, T2, { method: 'PATCH', body: { status: 'Resolved' } })).status, 403)
  t.equal((await api('/api/nothing/here')).json().error.code, 'ResourceNotFound')
})

t.test('alerts: paging, filter, expand, versions, casing', async t => {
  eu.setAlertCount(T1, 25)
  const first = (await api('/api/alerts?$top=10')).json()
  t.equal(first['@odata.context'], `${AUD}/api/$metadata#Alerts`)
  t.equal(first.value.length, 10)
  t.match(first.value[0], { id: `da${T1.slice(0, 8)}_1`, aadTenantId: T1 })
  t.notOk('evidence' in first.value[0])
  t.equal(first['@odata.nextLink'], `${AUD}/api/alerts?$top=10&$skip=10`)
  const second = (await api(first['@odata.nextLink'].slice(AUD.length))).json()
  t.equal(second.value[0].id, `da${T1.slice(0, 8)}_11`)
  const last = (await api('/api/v1.0/alerts?%24top=10&%24skip=20&$expand=evidence')).json()
  t.equal(last.value.length, 5)
  t.notOk('@odata.nextLink' in last)
  t.ok(Array.isArray(last.value[0].evidence))
  const cut = last.value[0].lastUpdateTime
  const plus = (await api(`/API/Alerts?$filter=lastUpdateTime+gt+${cut}`)).json()
  t.equal(plus.value.length, 4)
  const pct = (await api(`/api/alerts?%24filter=lastUpdateTime%20ge%20'${cut}'%20and%20alertCreationTime%20lt%20${cut}`)).json()
  t.equal(pct.value.length, 1)
  t.equal((await api('/api/alerts?$filter=nonsense')).json().error.code, 'ODataError')
  const one = (await api(`/api/alerts/da${T1.slice(0, 8)}_3`)).json()
  t.equal(one.id, `da${T1.slice(0, 8)}_3`)
  t.equal((await api(`/api/alerts/da${T2.slice(0, 8)}_3`)).status, 404, 'other tenant\'s alert')
  const patched = await api(`/api/alerts/${one.id as string}`, T1, { method: 'PATCH', body: { status: 'Resolved', comment: 'done' } })
  t.equal(patched.json().status, 'Resolved')
  t.equal((await api(`/api/alerts/${one.id as string}/machine`)).json().id, one.machineId)
})

t.test('machines, actions, indicators, queries, tvm', async t => {
  const machines = (await api('/api/machines')).json().value
  t.ok(machines.length > 0)
  const m = machines[0]
  t.match(m.id, /^[0-9a-f]{40}$/)
  t.equal((await api(`/api/machines/${m.computerDnsName as string}`)).json().id, m.id)
  const count = await api(`/api/machines/${m.id as string}/alerts/$count`)
  t.match(count.text, /^\d+$/)
  t.equal(Number(count.text), (await api(`/api/machines/${m.id as string}/alerts`)).json().value.length)
  const ts = new Date().toISOString()
  t.equal((await api(`/api/machines/findbyip(ip='${m.lastIpAddress as string}',timestamp=${ts})`)).json().value[0].id, m.id)
  t.equal((await api(`/api/machines/${m.id as string}/isolate`, T1, { method: 'POST', body: { comment: 'x' } })).json().error.code, 'InvalidRequestBody')
  const iso = await api(`/api/machines/${m.id as string}/isolate`, T1, { method: 'POST', body: { Comment: 'x', IsolationType: 'Selective' } })
  t.equal(iso.status, 201)
  t.match(iso.json(), { type: 'Isolate', status: 'Pending', scope: 'Selective', machineId: m.id })
  t.equal((await api(`/api/machines/${m.id as string}/runAntiVirusScan`, T1, { method: 'POST', body: { Comment: 'x' } })).status, 403)
  t.equal((await api('/api/machineactions')).json().value[0].id, iso.json().id)
  t.equal((await api('/api/machineactions', T4)).json().value.length, 0, 'per tenant')
  t.match((await api(`/api/machineactions/${iso.json().id as string}/GetPackageUri`)).json().value, /^"https:\/\/userrequests-us\..*"$/)
  t.match((await api(`/api/machineactions/${iso.json().id as string}/GetLiveResponseResultDownloadLink(index=0)`)).json().value,
    /^https:\/\/[a-z]+\.blob\.core\.windows\.net\//)
  const ind = await api('/api/indicators', T1, { method: 'POST', body: { indicatorValue: '1.2.3.4', indicatorType: 'IpAddress', action: 'Alert', title: 't' } })
  t.equal(ind.status, 200)
  t.equal((await api('/api/indicators')).json().value.length, 1)
  t.equal((await api(`/api/indicators/${ind.json().id as string}`, T1, { method: 'DELETE' })).status, 204)
  const q = (await api('/api/advancedqueries/run', T1, { method: 'POST', body: { Query: 'DeviceProcessEvents | take 5' } })).json()
  t.equal(q.Results.length, 5)
  t.ok(Array.isArray(q.Schema))
  t.equal((await api('/api/Software')).json().value.length, 5)
  t.ok((await api('/api/vulnerabilities')).json().value.length > 0)
  t.match((await api('/api/machines/SoftwareVulnerabilitiesExport')).json().exportFiles[0], /^https:\/\/\w+\.blob\.core\.windows\.net\/.*sig=/)
})

t.test('export paging streams pages with $skiptoken', async t => {
  eu.setExportCount(T1, 120)
  const ids = new Set<string>()
  let path: string | undefined = '/api/machines/SoftwareInventoryByMachine?pageSize=50'
  const sizes: number[] = []
  while (path !== undefined) {
    const body: any = (await api(path)).json()
    sizes.push(body.value.length)
    for (const r of body.value) ids.add(`${r.id as string}#${r.softwareFirstSeenTimestamp as string}`)
    path = body['@odata.nextLink']?.slice(AUD.length)
    if (path !== undefined) t.match(path, /^\/api\/machines\/SoftwareInventoryByMachine\?pageSize=50&\$skiptoken=/)
  }
  t.same(sizes, [50, 50, 20])
  t.equal(ids.size, 120)
  eu.setExportCount(T1, 60000)
  const big = await api('/api/machines/SoftwareInventoryByMachine?pageSize=60000')
  t.equal(big.json().value.length, 60000)
  t.ok(big.body.length > 60000 * 400, `~0.5 KB records (${big.body.length} bytes)`)
  const gz = await startDefenderRegion({ name: 'gz', ca: world.ca, entraPublicKeyPem: entra.publicKeyPem, compress: true })
  gz.setExportCount(T1, 1000)
  const zipped = await api('/api/machines/SoftwareInventoryByMachine', T1, { base: gz.url, headers: { 'accept-encoding': 'gzip' } })
  t.equal(zipped.headers['content-encoding'], 'gzip')
  t.equal(zipped.json().value.length, 1000)
  t.equal((await api('/api/alerts', T1, { base: gz.url, headers: { 'accept-encoding': 'br' } })).headers['content-encoding'], 'br')
  await gz.close()
})

t.test('429 after ratePerMinute, per tenant', async t => {
  eu.reset()
  eu.setRatePerMinute(3)
  for (let i = 0; i < 3; i++) t.equal((await api('/api/machines', T3)).status, 200)
  const limited = await api('/api/machines', T3)
  t.equal(limited.status, 429)
  t.equal(limited.json().error.code, 'TooManyRequests')
  t.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60)
  t.equal((await api('/api/machines', T1)).status, 200, 'other tenant unaffected')
  eu.setRatePerMinute(100)
  eu.reset()
  t.equal((await api('/api/machines', T3)).status, 200)
})

t.test('region faults, latency and recording', async t => {
  const us = world.regions.us!
  us.reset()
  us.setFault({ kind: 'status', status: 503, times: 1 })
  const down = await api('/api/machines', T1, { base: us.url })
  t.equal(down.status, 503)
  t.equal(down.json().error.code, 'ServiceUnavailable')
  t.equal((await api('/api/machines', T1, { base: us.url })).status, 200)
  us.setFault({ kind: 'reset' })
  await t.rejects(api('/api/machines', T1, { base: us.url }))
  us.setFault({ kind: 'hang' })
  await t.rejects(simRequest(`${us.url}/api`, { ca, timeoutMs: 200 }), { code: 'ETIMEDOUT' })
  us.setFault(undefined)
  us.setLatency(120)
  const start = Date.now()
  t.equal((await simRequest(`${us.url}/`, { ca })).status, 200)
  t.ok(Date.now() - start >= 110)
  us.setLatency(0)
  await api('/api/alerts?%24top=2&$filter=status+eq+%27New%27', T1, { base: us.url, method: 'POST', body: { a: 1 }, headers: { 'x-test': 'yes' } })
  const rec = us.received.at(-1)!
  t.equal(rec.url, '/api/alerts?%24top=2&$filter=status+eq+%27New%27')
  t.equal(rec.method, 'POST')
  t.equal(rec.headers['x-test'], 'yes')
  t.equal(rec.tenant, T1)
  t.equal(rec.bodyBytes, 7)
  t.equal(us.received.length, 6)
  t.equal(us.received[0]!.tenant, undefined, 'faulted request still recorded')
})
