import t from 'tap'
import { call, withKey, CLIENT_ID, CLIENT_SECRET, TENANT_A, TENANT_B, TENANT_C } from '../helper.js'
import { bearerGet, forge, forwardedCount, fingerprintFor, pageAll, postForm, RESOURCE, SIEM_CLIENT_ID, siemToken, startOAuthWorld, type OAuthWorld } from '../oauth-helper.js'
import { keyHash } from '../../src/callers/authenticate.js'

/** Claims of a valid siem token for tenant A, for forgeries that change one thing at a time. */
function validClaims (world: OAuthWorld, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const siem = keyHash(world.keys.siem)
  return { iss: 'defender-gateway', aud: RESOURCE, tid: TENANT_A, appid: SIEM_CLIENT_ID, azp: SIEM_CLIENT_ID, roles: ['Alert.Read.All'], kfp: fingerprintFor(world.signingKey, siem), iat: now - 60, nbf: now - 60, exp: now + 3000, jti: 'forged' }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

t.test('gateway tokens: Defender\'s own layout at the root, routed to the token\'s tenant', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const token = await siemToken(world, 'contoso')

  t.test('GET /api/alerts pages to the end; nextLink stays in the root layout', async (t) => {
    const { items, links } = await pageAll(world, '/api/alerts?$top=7', token)
    t.equal(items.length, 30)
    t.equal(links.length, 4)
    for (const link of links) t.ok(link.startsWith(`${world.url}/api/alerts?`), link)
    const seen = world.sim.regions.eu!.received.filter((r) => r.url.startsWith('/api/alerts'))
    t.ok(seen.length >= 5)
    t.ok(seen.every((r) => r.tenant === TENANT_A), 'every request went to the token\'s tenant')
  })

  t.test('/api/v1.0/... works too', async (t) => {
    t.equal((await bearerGet(world, '/api/v1.0/alerts?$top=1', token)).status, 200)
  })

  t.test('/tenants/{own tenant}/api/... works, links keep that layout', async (t) => {
    const { items, links } = await pageAll(world, '/tenants/contoso/api/alerts?$top=10', token)
    t.equal(items.length, 30)
    for (const link of links) t.ok(link.startsWith(`${world.url}/tenants/contoso/api/alerts?`), link)
    t.equal((await bearerGet(world, `/tenants/${TENANT_A}/api/alerts?$top=1`, token)).status, 200)
  })

  t.test('a tenant-A token on /tenants/B/... is refused, nothing forwarded, no token fetched', async (t) => {
    const forwarded = forwardedCount(world)
    const fetched = world.sim.entra.tokenRequests(TENANT_B)
    for (const ref of [TENANT_B, 'fabrikam', TENANT_C]) {
      const answer = await bearerGet(world, `/tenants/${ref}/api/alerts`, token)
      t.equal(answer.status, 403, ref)
      t.equal(answer.json().error.code, 'TenantNotAllowed')
    }
    t.equal(forwardedCount(world), forwarded)
    t.equal(world.sim.entra.tokenRequests(TENANT_B), fetched)
  })

  t.test('the root layout cannot be walked out of: dot segments and encoded separators are refused', async (t) => {
    const forwarded = forwardedCount(world)
    for (const path of ['/api/../../tenants/fabrikam/api/alerts', '/api/%2e%2e/%2e%2e/tenants/fabrikam/api/alerts', '/api%2f..%2f..%2ftenants%2ffabrikam%2fapi%2falerts', '/api//alerts', '/api/alerts/..']) {
      const answer = await bearerGet(world, path, token)
      t.equal(answer.status, 400, path)
      t.equal(answer.json().error.code, 'BadRequest', path)
    }
    t.equal((await bearerGet(world, '/apialerts', token)).status, 400, 'not /api: no root layout')
    t.equal(forwardedCount(world), forwarded)
  })

  t.test('roles bound the token: a route outside them is refused', async (t) => {
    const answer = await bearerGet(world, '/api/machines/abc/isolate', token)
    t.not(answer.status, 200)
    const write = await call(world.url, '/api/machines/abc/isolate', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
    t.equal(write.status, 403)
    t.equal(write.json().error.code, 'PermissionNotAllowed')
  })

  t.test('API keys keep working exactly as before; a key has no root layout', async (t) => {
    t.equal((await call(world.url, '/tenants/contoso/api/alerts?$top=1', { headers: withKey(world.keys.siem) })).status, 200)
    t.equal((await call(world.url, '/tenants/contoso/api/alerts?$top=1', { headers: { authorization: `Bearer ${world.keys.siem}` } })).status, 200)
    const root = await call(world.url, '/api/alerts', { headers: withKey(world.keys.siem) })
    t.equal(root.status, 400)
  })
})

t.test('gateway tokens: hostile tokens are refused with 401, nothing forwarded, no token fetched', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const real = await siemToken(world, TENANT_A)
  const [h, p, s] = real.split('.') as [string, string, string]
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  const now = Math.floor(Date.now() / 1000)
  const msToken = (await call(world.sim.entra.url, `/${TENANT_A}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: `${RESOURCE}/.default` }).toString(),
    ca: world.caPem
  }))
  const hostile: Array<[string, string]> = [
    ['tampered payload (more roles)', `${h}.${b64({ ...payload, roles: [...payload.roles, 'Machine.Isolate'] })}.${s}`],
    ['tampered signature', `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`],
    ['alg none with the real kid', `${b64({ alg: 'none', typ: 'JWT', kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid })}.${p}.`],
    ['expired', await forge(world.signingKey, { ...validClaims(world, now), iat: now - 7200, nbf: now - 7200, exp: now - 3600 })],
    ['not yet valid', await forge(world.signingKey, { ...validClaims(world, now), nbf: now + 3600 })],
    ['wrong aud (Azure Resource Manager)', await forge(world.signingKey, { ...validClaims(world, now), aud: 'https://management.azure.com' })],
    // a valid Graph gateway token opens Graph routes only (issue 15): on a Defender route it is a 401
    ['Graph token on a Defender route', await forge(world.signingKey, { ...validClaims(world, now), aud: 'https://graph.microsoft.com' })],
    ['other issuer', await forge(world.signingKey, { ...validClaims(world, now), iss: 'https://sts.windows.net/x/' })],
    ['signed by another key (another gateway)', await forge('another-gateway-key-0123456789-abcdefghij', validClaims(world, now))],
    ['unknown kid', await forge(world.signingKey, validClaims(world, now), { kid: 'nope' })],
    ['HS512 with the same key', await forge(world.signingKey, validClaims(world, now), { alg: 'HS512' }).catch(() => 'x.y.z')],
    ['without exp', await forge(world.signingKey, { ...validClaims(world, now), exp: undefined })],
    ['tid not a GUID', await forge(world.signingKey, { ...validClaims(world, now), tid: 'contoso' })],
    ['kfp of another key', await forge(world.signingKey, { ...validClaims(world, now), kfp: fingerprintFor(world.signingKey, keyHash('other')) })],
    ['unknown appid', await forge(world.signingKey, { ...validClaims(world, now), appid: 'ghost' })]
  ]
  t.equal(msToken.status, 200, 'a real token from (simulated) Entra')
  hostile.push(['a Microsoft (Entra) token', msToken.json().access_token])
  const forwarded = forwardedCount(world)
  const fetched = world.sim.entra.tokenRequests()
  for (const [name, token] of hostile) {
    for (const path of ['/api/alerts', `/tenants/${TENANT_A}/api/alerts`]) {
      const answer = await bearerGet(world, path, token)
      t.equal(answer.status, 401, `${name} on ${path}`)
      t.equal(answer.json().error.code, 'GatewayUnauthenticated', name)
    }
  }
  t.equal(forwardedCount(world), forwarded, 'nothing forwarded')
  t.equal(world.sim.entra.tokenRequests(), fetched, 'no token fetched')
  const metrics = (await call(world.adminUrl, '/metrics')).text
  for (const reason of ['signature', 'expired', 'audience', 'issuer', 'not_yet_valid', 'unknown_key', 'key_changed', 'client_removed']) {
    t.match(metrics, new RegExp(`defender_gateway_oauth_bearer_rejections_total\\{reason="${reason}"\\} [1-9]`), reason)
  }
  t.equal((await bearerGet(world, '/api/alerts?$top=1', real)).status, 200, 'the real token still works')
})

t.test('gateway tokens: a token for an unconfigured tenant cannot reach it', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const stranger = '99999999-9999-4999-8999-999999999999'
  const token = await forge(world.signingKey, { ...validClaims(world), tid: stranger })
  const forwarded = forwardedCount(world)
  for (const path of ['/api/alerts', `/tenants/${stranger}/api/alerts`]) {
    const answer = await bearerGet(world, path, token)
    t.equal(answer.status, 403, path)
    t.equal(answer.json().error.code, 'TenantNotAllowed')
  }
  t.equal(forwardedCount(world), forwarded)
})

t.test('gateway tokens: a reload revokes at once (client removed, key rotated, tenant or permission withdrawn)', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const token = await siemToken(world, TENANT_A)
  const narrowToken = (await postForm(world, `/${TENANT_A}/oauth2/token`, { grant_type: 'client_credentials', client_id: 'narrow', client_secret: world.keys.narrow, resource: RESOURCE })).json().access_token as string
  const ok = async (tok: string): Promise<number> => (await bearerGet(world, '/api/alerts?$top=1', tok)).status
  t.equal(await ok(token), 200)
  t.equal(await ok(narrowToken), 200)
  const withClient = (name: string, change: (c: Record<string, any>) => Record<string, any> | undefined) => (raw: Record<string, any>) => ({
    ...raw, clients: raw.clients.flatMap((c: Record<string, any>) => c.name === name ? [change(c)].filter((x) => x !== undefined) : [c])
  })
  const original = world.configWith((raw) => raw)

  world.gateway.reload(world.configWith(withClient('siem', (c) => ({ ...c, keySha256: keyHash('rotated-key') }))))
  t.equal(await ok(token), 401, 'key rotated: the old token is dead')
  world.gateway.reload(original)
  t.equal(await ok(token), 200, 'same key again: the fingerprint matches again')

  world.gateway.reload(world.configWith(withClient('siem', () => undefined)))
  t.equal(await ok(token), 401, 'client removed')
  world.gateway.reload(original)

  world.gateway.reload(world.configWith(withClient('narrow', (c) => ({ ...c, tenants: ['fabrikam'] }))))
  t.equal(await ok(narrowToken), 403, 'tenant no longer allowed for the client')
  world.gateway.reload(world.configWith(withClient('narrow', (c) => ({ ...c, permissions: ['Machine.Read.All'] }))))
  t.equal(await ok(narrowToken), 403, 'permission withdrawn from the client')
  world.gateway.reload(world.configWith((raw) => ({ ...raw, tenants: raw.tenants.map((x: Record<string, any>) => x.name === 'contoso' ? { ...x, permissions: ['Machine.Read.All'] } : x) })))
  t.equal(await ok(narrowToken), 403, 'permission withdrawn from the tenant')
  world.gateway.reload(original)
  t.equal(await ok(narrowToken), 200)
})
