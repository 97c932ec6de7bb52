import t from 'tap'
import { postForm } from '../sim/client.js'
import { call, startWorld, withKey, CLIENT_ID, CLIENT_SECRET, TENANT_A, TENANT_B } from '../helper.js'
import type { SimWorld } from '../sim/index.js'
import type { TokenSource } from '../../src/tokens/types.js'

/** An identity provider that answers every tenant with a real token issued for tenant B. */
function crossedTenantSource (sim: SimWorld): TokenSource {
  return {
    async acquire () {
      const res = await postForm(`${sim.entra.url}/${TENANT_B}/oauth2/v2.0/token`, sim.ca.certPem, {
        client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope: 'https://api.securitycenter.microsoft.com/.default'
      })
      const body = res.json() as { access_token: string, expires_in: number }
      return { accessToken: body.access_token, expiresOn: Date.now() + body.expires_in * 1000 }
    },
    forget () {},
    close () {}
  }
}

t.test('a token whose tid is another tenant is never forwarded', async (t) => {
  const world = await startWorld({ tokenSource: crossedTenantSource })
  t.teardown(async () => { await world.close() })
  const before = world.sim.regions.eu!.received.length
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(res.status, 503)
  t.equal(JSON.parse(res.text).error.code, 'TokenUnavailable')
  t.match(JSON.parse(res.text).error.message, 'belongs to another tenant')
  t.equal(world.sim.regions.eu!.received.length, before, 'nothing reached Defender')
  t.ok(world.logs.some((l) => l.level === 50 && String(l.msg).includes('token tenant does not match')), 'an error was logged')
  const own = await call(world.url, `/tenants/${TENANT_B}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(own.status, 200, 'the same token is fine for the tenant it belongs to')
})
