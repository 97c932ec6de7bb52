import t from 'tap'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { call, startWorld, TENANT_A, TENANT_B } from '../helper.js'
import { promtool } from '../promtool.js'
import { forwardedCount, NARROW_CLIENT_ID, postForm, RESOURCE, SIEM_CLIENT_ID, startOAuthWorld } from '../oauth-helper.js'

t.test('token endpoint: Entra-shaped answers on v1 and v2, and Entra-shaped refusals', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const v2 = `/${TENANT_A}/oauth2/v2.0/token`
  const good = { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: `${RESOURCE}/.default` }

  t.test('v2 success: numbers, no scope, a JWT a human can check (tid, roles)', async (t) => {
    const answer = await postForm(world, v2, good)
    t.equal(answer.status, 200)
    t.match(answer.headers['content-type'], /^application\/json/)
    t.match(answer.headers['cache-control'], /no-store/)
    const body = answer.json()
    t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'ext_expires_in', 'token_type'])
    t.equal(body.token_type, 'Bearer')
    t.equal(body.expires_in, 3599)
    t.equal(body.ext_expires_in, 3599)
    const claims = decodeJwt(body.access_token)
    t.equal(claims.tid, TENANT_A)
    t.equal(claims.appid, SIEM_CLIENT_ID)
    t.equal(claims.azp, SIEM_CLIENT_ID)
    t.equal(claims.aud, RESOURCE)
    t.equal(claims.iss, 'defender-gateway')
    t.same(claims.roles, ['AdvancedQuery.Read.All', 'Alert.Read.All', 'Machine.Read.All', 'Software.Read.All', 'Ti.ReadWrite'], 'client ∩ tenant allowlist')
    t.equal((claims.exp as number) - (claims.iat as number), 3599)
    t.equal(claims.nbf, claims.iat)
    t.type(claims.jti, 'string')
    t.notOk(JSON.stringify(claims).includes(world.keys.siem), 'the secret is not in the token')
    const header = decodeProtectedHeader(body.access_token)
    t.equal(header.alg, 'HS256')
    t.type(header.kid, 'string')
  })

  t.test('v1 success: strings, expires_on, not_before and the resource echoed as asked', async (t) => {
    const answer = await postForm(world, '/contoso/oauth2/token', { resource: 'https://api.securitycenter.windows.com/', client_id: 'siem', client_secret: world.keys.siem, grant_type: 'client_credentials' })
    t.equal(answer.status, 200)
    const body = answer.json()
    t.equal(body.expires_in, '3599')
    t.equal(body.ext_expires_in, '3599')
    t.equal(Number(body.expires_on) - Number(body.not_before), 3599)
    t.equal(body.resource, 'https://api.securitycenter.windows.com/')
    t.equal(decodeJwt(body.access_token).tid, TENANT_A, 'tenant alias resolves to its id')
  })

  t.test('every Defender resource identifier of the public cloud is accepted', async (t) => {
    for (const scope of ['https://securitycenter.onmicrosoft.com/windowsatpservice/.default', 'fc780465-2017-40d4-a0c5-307022471b92/.default', 'https://api.securitycenter.windows.com/.default', 'openid https://api.securitycenter.microsoft.com/.default offline_access']) {
      const answer = await postForm(world, v2, { ...good, scope })
      t.equal(answer.status, 200, scope)
    }
  })

  t.test('HTTP Basic client authentication (RFC 6749 §2.3.1, as Go x/oauth2 sends it)', async (t) => {
    const basic = Buffer.from(`${encodeURIComponent(SIEM_CLIENT_ID)}:${encodeURIComponent(world.keys.siem)}`).toString('base64')
    const answer = await postForm(world, `/${TENANT_A}/oauth2/token`, { grant_type: 'client_credentials', resource: RESOURCE }, { authorization: `Basic ${basic}` })
    t.equal(answer.status, 200)
    const wrong = Buffer.from(`${SIEM_CLIENT_ID}:nope`).toString('base64')
    const refused = await postForm(world, `/${TENANT_A}/oauth2/token`, { grant_type: 'client_credentials', resource: RESOURCE }, { authorization: `Basic ${wrong}` })
    t.equal(refused.status, 401)
    t.equal(refused.json().error, 'invalid_client')
  })

  t.test('refusals carry Entra status codes and fields, and never the secret', async (t) => {
    const cases: Array<[string, string, Record<string, string>, number, string, number]> = [
      ['wrong secret', v2, { ...good, client_secret: 'gk_wrong' }, 401, 'invalid_client', 7000215],
      ['no secret', v2, { ...good, client_secret: '' }, 401, 'invalid_client', 7000218],
      ['unknown client', v2, { ...good, client_id: '99999999-9999-4999-8999-999999999999' }, 400, 'unauthorized_client', 700016],
      ['unknown tenant', '/44444444-4444-4444-8444-444444444444/oauth2/v2.0/token', good, 400, 'invalid_request', 90002],
      ['tenant not allowed for the client', `/${TENANT_B}/oauth2/v2.0/token`, { ...good, client_id: NARROW_CLIENT_ID, client_secret: world.keys.narrow }, 400, 'invalid_request', 90002],
      ['other resource (Azure Resource Manager; Graph is accepted since issue 15)', v2, { ...good, scope: 'https://management.azure.com/.default' }, 400, 'invalid_scope', 70011],
      ['scope without /.default', v2, { ...good, scope: RESOURCE }, 400, 'invalid_scope', 70011],
      ['two resources', v2, { ...good, scope: `${RESOURCE}/.default https://graph.microsoft.com/.default` }, 400, 'invalid_scope', 70011],
      ['v1 resource with /.default', `/${TENANT_A}/oauth2/token`, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, resource: `${RESOURCE}/.default` }, 400, 'invalid_scope', 70011],
      ['v1 without resource', `/${TENANT_A}/oauth2/token`, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem }, 400, 'invalid_request', 900144],
      ['other grant', v2, { ...good, grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
      ['no grant', v2, { client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: `${RESOURCE}/.default` }, 400, 'invalid_request', 900144]
    ]
    for (const [name, path, fields, status, error, code] of cases) {
      const answer = await postForm(world, path, fields)
      t.equal(answer.status, status, name)
      const body = answer.json()
      t.equal(body.error, error, name)
      t.same(body.error_codes, [code], name)
      t.match(body.error_description, new RegExp(`^AADSTS${code}: `), name)
      t.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/, name)
      t.type(body.trace_id, 'string')
      t.type(body.correlation_id, 'string')
      t.notOk(answer.text.includes(world.keys.siem) || answer.text.includes('gk_wrong'), `${name}: no secret in the answer`)
    }
  })

  t.test('malformed requests: duplicated parameters, JSON body, credentials twice: 400 invalid_request', async (t) => {
    const dup = await call(world.url, v2, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${new URLSearchParams(good).toString()}&client_id=siem` })
    t.equal(dup.status, 400)
    t.equal(dup.json().error, 'invalid_request')
    const json = await call(world.url, v2, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good) })
    t.equal(json.status, 400)
    t.equal(json.json().error, 'invalid_request')
    const big = await call(world.url, v2, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${new URLSearchParams(good).toString()}&pad=${'x'.repeat(20_000)}` })
    t.equal(big.status, 400)
    t.equal(big.json().error, 'invalid_request')
    const basic = Buffer.from(`${SIEM_CLIENT_ID}:${world.keys.siem}`).toString('base64')
    const twice = await postForm(world, v2, good, { authorization: `Basic ${basic}` })
    t.equal(twice.status, 400)
    t.equal(twice.json().error, 'invalid_request')
  })

  t.test('OpenID configuration points at the gateway itself', async (t) => {
    const doc = (await call(world.url, `/${TENANT_A}/v2.0/.well-known/openid-configuration`)).json()
    t.equal(doc.token_endpoint, `${world.url}/${TENANT_A}/oauth2/v2.0/token`)
    t.equal(doc.issuer, `${world.url}/${TENANT_A}/v2.0`)
    t.ok(doc.authorization_endpoint.startsWith(world.url))
    t.ok(doc.jwks_uri.startsWith(world.url))
    t.same((await call(world.url, `/${TENANT_A}/discovery/v2.0/keys`)).json(), { keys: [] })
    // Nobody can probe for customers: a tenant not in the config gets the same answer, its own name in the URLs.
    for (const version of ['/v2.0', '']) {
      const known = await call(world.url, `/${TENANT_A}${version}/.well-known/openid-configuration`)
      const unknown = await call(world.url, `/nope.example${version}/.well-known/openid-configuration`)
      t.equal(unknown.status, known.status, `unknown tenant${version}: same status`)
      t.equal(unknown.headers['content-type'], known.headers['content-type'])
      t.same(unknown.json(), JSON.parse(known.text.replaceAll(TENANT_A, 'nope.example')), 'same document')
    }
    const bad = await call(world.url, '/no%20such%3Ctenant/v2.0/.well-known/openid-configuration')
    t.equal(bad.status, 400, 'not a tenant reference at all: refused')
    t.equal(bad.json().error, 'invalid_request')
  })

  t.test('nothing of this reached Entra or Defender', async (t) => {
    t.equal(world.sim.entra.tokenRequests(), 0)
    t.equal(forwardedCount(world), 0)
  })

  t.test('issuance is an audit line with client, tenant, resource and jti, never the token', async (t) => {
    const lines = world.logs.filter((l) => l.audit === true && l.event === 'token_issued')
    t.ok(lines.length >= 5)
    const line = lines[0] as Record<string, unknown>
    t.equal(line.client, 'siem')
    t.equal(line.tenant, TENANT_A)
    t.equal(line.resource, RESOURCE)
    t.type(line.jti, 'string')
  })
})

t.test('token endpoint: brute-forced secrets are refused with 429 and Retry-After, per client and per address', async (t) => {
  const world = await startOAuthWorld({ oauth: { maxFailures: 3 } })
  t.teardown(async () => { await world.close() })
  const v2 = `/${TENANT_A}/oauth2/v2.0/token`
  const fields = (secret: string): Record<string, string> => ({ grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: secret, scope: `${RESOURCE}/.default` })
  for (let i = 0; i < 3; i++) t.equal((await postForm(world, v2, fields(`guess-${i}`))).status, 401)
  const blocked = await postForm(world, v2, fields('guess-4'))
  t.equal(blocked.status, 429)
  t.equal(blocked.json().error, 'temporarily_unavailable')
  t.ok(Number(blocked.headers['retry-after']) > 0)
  const right = await postForm(world, v2, fields(world.keys.siem))
  t.equal(right.status, 429, 'even the right secret waits: guessing cannot continue until it hits')
  // The address is now blocked too: another client from the same source cannot be guessed either.
  const other = await postForm(world, v2, { ...fields(world.keys.ops), client_id: 'ops' })
  t.equal(other.status, 429)
  const metrics = (await call(world.adminUrl, '/metrics')).text
  t.match(metrics, /defender_gateway_oauth_token_refusals_total\{client="siem",reason="wrong_secret"\} 3/)
  t.match(metrics, /defender_gateway_oauth_token_refusals_total\{client="siem",reason="too_many_failures"\} 2/)
})

t.test('token endpoint metrics lint clean with promtool after issuance, refusals and bearer rejections', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const v2 = `/${TENANT_A}/oauth2/v2.0/token`
  const fields = { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: `${RESOURCE}/.default` }
  t.equal((await postForm(world, v2, fields)).status, 200)
  t.equal((await postForm(world, v2, { ...fields, client_secret: 'nope' })).status, 401)
  t.equal((await call(world.url, '/api/alerts', { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.' } })).status, 401)
  const scrape = (await call(world.adminUrl, '/metrics')).text
  t.match(scrape, /defender_gateway_oauth_tokens_issued_total\{client="siem",version="v2"\} 1/)
  t.match(scrape, /defender_gateway_oauth_bearer_rejections_total\{reason="algorithm"\} 1/)
  const { code, output } = await promtool(scrape)
  t.equal(code, 0, `promtool check metrics: ${output.trim() || 'clean'}`)
})

t.test('token endpoint: unknown client ids count against the source address', async (t) => {
  const world = await startOAuthWorld({ oauth: { maxFailures: 2 } })
  t.teardown(async () => { await world.close() })
  const v2 = `/${TENANT_A}/oauth2/v2.0/token`
  for (const id of ['a', 'b']) t.equal((await postForm(world, v2, { grant_type: 'client_credentials', client_id: id, client_secret: 'x', scope: `${RESOURCE}/.default` })).status, 400)
  const answer = await postForm(world, v2, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: `${RESOURCE}/.default` })
  t.equal(answer.status, 429)
})

t.test('without an oauth section there is no token endpoint and no gateway token is accepted', async (t) => {
  const world = await startWorld()
  t.teardown(async () => { await world.close() })
  const answer = await call(world.url, `/${TENANT_A}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'siem', client_secret: world.keys.siem, scope: `${RESOURCE}/.default` }).toString()
  })
  t.equal(answer.status, 401, 'the path is just an unauthenticated request')
  t.notOk(answer.text.includes('access_token'))
  const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOiIxMTExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEifQ.c2ln'
  t.equal((await call(world.url, '/api/alerts', { headers: { authorization: `Bearer ${forged}` } })).status, 401)
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts`, { headers: { authorization: `Bearer ${forged}` } })).status, 401)
})
