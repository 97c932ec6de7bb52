import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import t from 'tap'
import { createMsalTokenSource, type MsalSourceOptions } from '../../src/tokens/msal-source.js'
import type { Credential } from '../../src/tokens/credentials.js'
import { TokenError } from '../../src/tokens/types.js'
import { createTestCa, startEntra, type EntraSim } from '../sim/index.js'
import { createClientCertificate, type ClientCertificate } from '../sim/entra-cert.js'
import { FEDERATED_AUDIENCE, x5tS256 } from '../sim/entra-assertion.js'

// The msal adapter against the simulated Entra ID over real sockets: credentials, rotation, Retry-After,
// and msal's own lock-out after a 5xx, which must not outlive the failure.
const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
const T1 = '11111111-1111-4111-8111-111111111111'
const T2 = '22222222-2222-4222-8222-222222222222'
const T3 = '33333333-3333-4333-8333-333333333333'
const OLD_SECRET = 'old-secret-value-1234'
const NEW_SECRET = 'new-secret-value-5678'
const ISSUER = 'https://oidc.cluster.example'

let entra: EntraSim
let caPem: string
let cert: ClientCertificate
let dir: string
t.before(async () => {
  const ca = await createTestCa()
  caPem = ca.certPem
  cert = await createClientCertificate()
  dir = await mkdtemp(join(tmpdir(), 'gw-tokens-msal-'))
  entra = await startEntra({
    ca,
    clientId: CLIENT_ID,
    clientSecrets: [OLD_SECRET],
    certificates: [cert.certPem],
    federatedIssuers: [ISSUER],
    grants: { [T1]: ['Alert.Read.All'], [T2]: ['Alert.Read.All'], [T3]: ['Alert.Read.All'] }
  })
})
t.teardown(async () => {
  await entra.close()
  await rm(dir, { recursive: true, force: true })
})
t.beforeEach(() => { entra.resetCounts(); entra.setClientSecrets([OLD_SECRET]) })

const secret = (name: string, value: string): Credential => ({ kind: 'secret', name, secret: { reveal: () => value } })
const logger = pino({ level: 'silent' })

function source (credentials: Credential[], extra: Partial<MsalSourceOptions> = {}) {
  const rejected: string[] = []
  const s = createMsalTokenSource({
    clientId: CLIENT_ID,
    authorityHost: entra.url,
    scope: 'https://api.securitycenter.microsoft.com/.default',
    credentials,
    caPem,
    timeoutMs: 2000,
    logger,
    onCredentialRejected: (name) => rejected.push(name),
    ...extra
  })
  t.teardown(() => s.close())
  return { s, rejected }
}

async function rejection (promise: Promise<unknown>): Promise<TokenError> {
  try { await promise } catch (err) { return err as TokenError }
  throw new Error('expected a rejection')
}

const header = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8'))
const unsignedJwt = (claims: Record<string, unknown>): string =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`

t.test('after a 5xx the next acquisition reaches Entra at once: msal\'s 60 s lock-out is dropped with the client', async (t) => {
  const { s } = source([secret('old', OLD_SECRET)])
  entra.setFault(T1, { kind: 'status', status: 503, times: 1 })
  t.equal((await rejection(s.acquire(T1, 'c1'))).kind, 'transient')
  const token = await s.acquire(T1, 'c2')
  t.ok(token.accessToken.length > 0)
  t.equal(entra.tokenRequests(T1), 2, 'the retry went to Entra instead of msal\'s throttle cache')
})

t.test('Entra\'s Retry-After reaches the error; without one there is no hint', async (t) => {
  const { s } = source([secret('old', OLD_SECRET)])
  entra.setFault(T1, { kind: 'status', status: 429, retryAfter: 7, times: 1 })
  t.equal((await rejection(s.acquire(T1, 'c'))).retryAfterSeconds, 7)
  entra.setFault(T1, { kind: 'status', status: 500, times: 1 })
  t.equal((await rejection(s.acquire(T1, 'c'))).retryAfterSeconds, undefined)
  entra.setFault(T1, { kind: 'empty' })
  t.equal((await rejection(s.acquire(T1, 'c'))).kind, 'invalid-response', 'an empty 200 is not a token')
  entra.setFault(T1, undefined)
})

t.test('certificate: the assertion carries x5t#S256 and x5c and is signed by the key (checked by the simulator)', async (t) => {
  const { s } = source([{ kind: 'certificate', name: 'cert', privateKey: { reveal: () => cert.keyPem }, certPem: cert.certPem }])
  await s.acquire(T1, 'c')
  t.equal(entra.issued(T1), 1)
  const head = header(entra.lastRequest(T1)!.client_assertion!)
  t.equal(head['x5t#S256'], x5tS256(cert.certPem))
  t.equal(head.alg, 'PS256')
  t.ok(Array.isArray(head.x5c))
  const other = await createClientCertificate()
  const { s: wrong } = source([{ kind: 'certificate', name: 'other', privateKey: { reveal: () => other.keyPem }, certPem: other.certPem }])
  const err = await rejection(wrong.acquire(T1, 'c'))
  t.equal(err.kind, 'bad-credential', 'an unregistered certificate is a credential problem')
  t.equal(err.aadsts, 700027)
})

t.test('federated assertion file: sent as is, re-read when the file changes', async (t) => {
  const path = join(dir, 'token')
  const first = unsignedJwt({ iss: ISSUER, aud: FEDERATED_AUDIENCE, sub: 'system:serviceaccount:gw:one' })
  await writeFile(path, `${first}\n`)
  const { s } = source([{ kind: 'assertion-file', name: 'workload', path }])
  await s.acquire(T1, 'c')
  t.equal(entra.lastRequest(T1)!.client_assertion, first)
  await s.acquire(T1, 'c')
  t.equal(entra.lastRequest(T1)!.client_assertion, first, 'unchanged file, same assertion')
  const second = unsignedJwt({ iss: ISSUER, aud: FEDERATED_AUDIENCE, sub: 'system:serviceaccount:gw:two-rotated' })
  await writeFile(path, second)
  await s.acquire(T1, 'c')
  t.equal(entra.lastRequest(T1)!.client_assertion, second, 'the rotated assertion is used')
  await writeFile(path, '')
  t.match(await rejection(s.acquire(T1, 'c')), { kind: 'bad-credential', message: /empty/ })
  await rm(path)
  t.match(await rejection(s.acquire(T1, 'c')), { kind: 'bad-credential', message: /ENOENT/ })
  t.equal(entra.tokenRequests(T1), 3, 'an unreadable file never reaches Entra')
})

t.test('rotation: the new credential first, the old one when Entra rejects the new; the rejection is remembered', async (t) => {
  let now = Date.now()
  const { s, rejected } = source([secret('new', NEW_SECRET), secret('old', OLD_SECRET)], { now: () => now, rejectedTtlMs: 60_000 })
  await s.acquire(T1, 'c')
  t.equal(entra.tokenRequests(T1), 2, 'new rejected (7000215), old accepted')
  t.equal(entra.lastRequest(T1)!.client_secret, OLD_SECRET)
  t.same(rejected, ['new'])
  await s.acquire(T2, 'c')
  t.equal(entra.tokenRequests(T2), 1, 'the rejected credential is tried last for a while, for every tenant')
  entra.setClientSecrets([NEW_SECRET, OLD_SECRET])
  now += 60_001
  await s.acquire(T3, 'c')
  t.equal(entra.lastRequest(T3)!.client_secret, NEW_SECRET, 'the new one is first again once registered')
  entra.setClientSecrets([])
  const err = await rejection(s.acquire(T3, 'c'))
  t.equal(err.kind, 'bad-credential', 'both rejected: the last answer is the error')
  t.same(rejected, ['new', 'new', 'old'])
})

t.test('a transient failure of the new credential does not fall back', async (t) => {
  const { s, rejected } = source([secret('new', NEW_SECRET), secret('old', OLD_SECRET)])
  entra.setFault(T1, { kind: 'status', status: 503, times: 1 })
  t.equal((await rejection(s.acquire(T1, 'c'))).kind, 'transient')
  t.equal(entra.tokenRequests(T1), 1)
  t.same(rejected, [])
  s.forget(T1)
})

t.test('no credential is a programming error', async (t) => {
  t.throws(() => source([]), /at least one credential/)
})
