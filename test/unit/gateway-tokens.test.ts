import t from 'tap'
import { keyHash, type ClientEntry } from '../../src/callers/authenticate.js'
import { Secret } from '../../src/config/secret.js'
import { createKeyRing } from '../../src/gateway-tokens/keys.js'
import { indexClients, recheckToken } from '../../src/gateway-tokens/recheck.js'
import { acceptedResources } from '../../src/gateway-tokens/resources.js'
import { verifyGatewayToken } from '../../src/gateway-tokens/verify.js'
import { signToken } from '../../src/token-endpoint/issue.js'

const A = 'aaaaaaaa-1111-4111-8111-111111111111'
const NEW = 'new-signing-key-0123456789-abcdefghijklmn'
const OLD = 'old-signing-key-0123456789-abcdefghijklmn'
const client: ClientEntry = { name: 'siem', clientId: 'C1E2AAAA-0000-4000-8000-000000000001', keySha256: keyHash('k1'), tenants: [A], permissions: ['Alert.Read.All', 'Machine.Read.All'] }
const T0 = 1_800_000_000_000

async function issued (key: string, nowMs = T0): Promise<string> {
  const ring = createKeyRing([new Secret(key)])
  return (await signToken({ client, tenantId: A, resource: 'https://api.securitycenter.windows.com/', roles: ['Alert.Read.All', 'Machine.Read.All'] }, { ring, issuer: 'gw', lifetimeSeconds: 3599 }, nowMs)).token
}

const options = (keys: string[], now: number) => ({ ring: createKeyRing(keys.map((k) => new Secret(k))), issuer: 'gw', audiences: acceptedResources('public'), now: () => now })

t.test('signing key rotation: tokens of a previous key verify while it is in the ring', async (t) => {
  const old = await issued(OLD)
  const check = await verifyGatewayToken(old, options([NEW, OLD], T0))
  t.equal(check.ok, true)
  t.same(await verifyGatewayToken(old, options([NEW], T0)), { ok: false, reason: 'unknown_key' })
  t.equal((await verifyGatewayToken(await issued(NEW), options([NEW, OLD], T0))).ok, true)
})

t.test('expiry and not-before against an injected clock (no waiting)', async (t) => {
  const token = await issued(NEW)
  t.equal((await verifyGatewayToken(token, options([NEW], T0 + 3598_000))).ok, true)
  t.same(await verifyGatewayToken(token, options([NEW], T0 + 3599_000)), { ok: false, reason: 'expired' })
  t.same(await verifyGatewayToken(token, options([NEW], T0 - 60_000)), { ok: false, reason: 'not_yet_valid' })
})

t.test('issuer and audience', async (t) => {
  const token = await issued(NEW)
  t.same(await verifyGatewayToken(token, { ...options([NEW], T0), issuer: 'other' }), { ok: false, reason: 'issuer' })
  t.same(await verifyGatewayToken(token, { ...options([NEW], T0), audiences: acceptedResources('gcc-high') }), { ok: false, reason: 'audience' })
  t.same(await verifyGatewayToken('not.a.jwt', options([NEW], T0)), { ok: false, reason: 'malformed' })
})

t.test('recheck against the current config: roles ∩ current permissions, tenant bound, key fingerprint', async (t) => {
  const check = await verifyGatewayToken(await issued(NEW), options([NEW], T0))
  if (!check.ok) throw new Error('expected a valid token')
  const now = recheckToken(check.claims, check.key, indexClients([client]))
  t.same(now, { name: 'siem', tenants: new Set([A]), permissions: new Set(['Alert.Read.All', 'Machine.Read.All']), tokenTenant: A, tokenApi: 'defender' })
  const narrowed = recheckToken(check.claims, check.key, indexClients([{ ...client, permissions: ['Alert.Read.All', 'Machine.Isolate'] }]))
  t.same(typeof narrowed === 'object' && [...narrowed.permissions], ['Alert.Read.All'], 'a role the client lost is gone; one it gained is not added')
  const moved = recheckToken(check.claims, check.key, indexClients([{ ...client, tenants: ['bbbbbbbb-2222-4222-8222-222222222222'] }]))
  t.same(typeof moved === 'object' && [...moved.tenants], [], 'tenant withdrawn: no tenant at all')
  t.equal(recheckToken(check.claims, check.key, indexClients([{ ...client, keySha256: keyHash('k2') }])), 'key_changed')
  t.equal(recheckToken(check.claims, check.key, indexClients([])), 'client_removed')
  t.equal(typeof recheckToken(check.claims, check.key, indexClients([{ ...client, clientId: undefined, name: client.clientId!.toLowerCase() }])), 'object', 'appid matches a name too')
})

t.test('kid and fingerprint reveal nothing of the keys', async (t) => {
  const ring = createKeyRing([new Secret(NEW)])
  const token = await issued(NEW)
  t.notOk(token.includes(client.keySha256), 'the keySha256 itself is not in the token')
  t.notOk(Buffer.from(token.split('.')[1]!, 'base64url').toString().includes(client.keySha256))
  t.equal(ring.signing.kid.length, 16)
})
