import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { call, TENANT_A } from '../helper.js'
import { bearerGet, postForm, RESOURCE, SIEM_CLIENT_ID, siemToken, startOAuthWorld } from '../oauth-helper.js'

// Red-team F4: a reload applies the oauth section: removed → gateway tokens refused and the endpoint off
// at once (the gateway's answer without oauth: 401), keys changed → in force at once.
const ALERTS = '/api/alerts?$top=1'
const TOKEN = `/${TENANT_A}/oauth2/v2.0/token`
const fields = (secret: string): Record<string, string> => ({ grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: secret, scope: `${RESOURCE}/.default` })

t.test('reload without the oauth section: gateway tokens refused at once, the token endpoint answers as when off', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  const token = await siemToken(world, TENANT_A)
  t.equal((await bearerGet(world, ALERTS, token)).status, 200)
  const original = world.configWith((raw) => raw)
  world.gateway.reload(world.configWith(({ oauth: _oauth, ...rest }) => rest))
  t.equal((await bearerGet(world, ALERTS, token)).status, 401, 'the gateway token is refused')
  const issue = await postForm(world, TOKEN, fields(world.keys.siem))
  t.equal(issue.status, 401, 'the token endpoint path is just an unauthenticated request, as without oauth')
  t.notOk(issue.text.includes('access_token'))
  t.equal((await call(world.url, `/${TENANT_A}/v2.0/.well-known/openid-configuration`)).status, 401, 'metadata too')
  t.ok(world.logs.some((line) => line.level === 40 && /oauth section was removed/.test(String(line.msg))), 'a warning says so')
  t.equal((await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: { 'x-api-key': world.keys.siem } })).status, 200, 'API keys still work')
  world.gateway.reload(original)
  t.equal((await bearerGet(world, ALERTS, token)).status, 200, 'oauth back: the same token is accepted again')
  t.equal((await postForm(world, TOKEN, fields(world.keys.siem))).status, 200)
})

t.test('reload with a new signing key: applied at once, previousKeys honoured', async (t) => {
  const world = await startOAuthWorld()
  const dir = await mkdtemp(join(tmpdir(), 'gw-oauth-reload-'))
  t.teardown(async () => {
    await world.close()
    await rm(dir, { recursive: true, force: true })
  })
  const oldToken = await siemToken(world, TENANT_A)
  const newKeyFile = join(dir, 'new.key')
  await writeFile(newKeyFile, randomBytes(32).toString('base64url'))
  world.gateway.reload(world.configWith((raw) => ({ ...raw, oauth: { ...raw.oauth, signingKey: { fromFile: newKeyFile } } })))
  t.equal((await bearerGet(world, ALERTS, oldToken)).status, 401, 'a token of the dropped key is refused')
  const newToken = await siemToken(world, TENANT_A)
  t.equal((await bearerGet(world, ALERTS, newToken)).status, 200, 'tokens are signed with the new key')
  world.gateway.reload(world.configWith((raw) => ({ ...raw, oauth: { ...raw.oauth, signingKey: { fromFile: newKeyFile }, previousKeys: [raw.oauth.signingKey] } })))
  t.equal((await bearerGet(world, ALERTS, oldToken)).status, 200, 'the old key as a previous key: accepted again')
  t.equal((await bearerGet(world, ALERTS, newToken)).status, 200)
})
