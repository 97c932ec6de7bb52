import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { call, startWorld, TENANT_A, TENANT_C, withKey, type TestWorld } from '../helper.js'
import { createClientCertificate } from '../sim/entra-cert.js'

// Credentials and clouds through the whole gateway: rotation fallback, expiry metric and warnings,
// and the cloud choosing the scope sent to Entra ID.
const DAY = 86_400_000
let dir = ''
t.before(async () => { dir = await mkdtemp(join(tmpdir(), 'gw-tokens-cred-')) })
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

const alerts = async (world: TestWorld, tenant: string): ReturnType<typeof call> =>
  await call(world.url, `/tenants/${tenant}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })

t.test('rotation: a certificate Entra does not know yet falls back to the old secret; expiries are exported and warned', async (t) => {
  const cert = await createClientCertificate(new Date(Date.now() + 10 * DAY))
  const secretExpiry = new Date(Date.now() + 400 * DAY).toISOString()
  const world = await startWorld({
    beforeGateway: async () => {
      await writeFile(join(dir, 'new.key'), cert.keyPem)
      await writeFile(join(dir, 'new.crt'), cert.certPem)
    },
    config: (base) => ({
      ...base,
      identity: {
        clientId: base.identity.clientId,
        authorityHost: base.identity.authorityHost,
        credentials: [
          { name: 'cert-2026', certificate: { keyFile: join(dir, 'new.key'), certFile: join(dir, 'new.crt') } },
          { name: 'secret-2025', secret: base.identity.secret, expiresOn: secretExpiry }
        ]
      }
    })
  })
  t.teardown(async () => { await world.close() })
  const entra = world.sim.entra
  entra.setCertificates([(await createClientCertificate()).certPem])
  t.equal((await alerts(world, TENANT_A)).status, 200, 'served through the fallback')
  t.equal(entra.tokenRequests(TENANT_A), 2)
  t.ok(entra.lastRequest(TENANT_A)?.client_secret, 'the secret got the token')
  const text = (await call(world.adminUrl, '/metrics')).text
  const notAfter = Math.floor(Date.parse(new X509Certificate(cert.certPem).validTo) / 1000)
  t.match(text, `defender_gateway_credential_expiry_timestamp_seconds{credential="cert-2026"} ${notAfter}`)
  t.match(text, `defender_gateway_credential_expiry_timestamp_seconds{credential="secret-2025"} ${Math.floor(Date.parse(secretExpiry) / 1000)}`)
  t.match(text, 'defender_gateway_credential_rejections_total{credential="cert-2026"} 1')
  const warned = world.logs.filter((l) => l.msg === 'app credential expires soon; rotate it').map((l) => l.credential)
  t.same(warned, ['cert-2026'], 'only the credential within 30 days is warned about')

  entra.setCertificates([cert.certPem])
  t.equal((await alerts(world, TENANT_A)).status, 200, 'cached token: no new request')
  t.equal(entra.tokenRequests(TENANT_A), 2)
})

t.test('gcc-high: the scope sent to Entra is the gov resource; the consent link uses the login host in force', async (t) => {
  const gov = 'https://api-gov.securitycenter.microsoft.us'
  const world = await startWorld({
    sim: { defender: { audience: gov } },
    config: (base) => ({ ...base, cloud: 'gcc-high', upstream: { ...base.upstream, region: 'eu' } })
  })
  t.teardown(async () => { await world.close() })
  t.equal((await alerts(world, TENANT_A)).status, 200, 'the gov-audience token is accepted by the (gov) simulator')
  t.equal(world.sim.entra.lastRequest(TENANT_A)?.scope, `${gov}/.default`)
  world.sim.entra.setGrants(TENANT_C, undefined)
  const refused = await alerts(world, TENANT_C)
  t.equal(refused.status, 403)
  t.match(JSON.parse(refused.text).error.message, `${world.sim.entra.url}/${TENANT_C}/adminconsent?client_id=`)
})
