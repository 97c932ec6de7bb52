import { createHash, X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { certificateThumbprint, createAssertionReader, credentialAuth, credentialExpiry, watchCredentialExpiry, type Credential } from '../../src/tokens/credentials.js'
import { createClientCertificate, type ClientCertificate } from '../sim/entra-cert.js'

const DAY = 86_400_000
let cert: ClientCertificate
let dir: string
t.before(async () => {
  cert = await createClientCertificate(new Date(Date.now() + 10 * DAY))
  dir = await mkdtemp(join(tmpdir(), 'gw-cred-'))
})
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

const secret = (expiresOn?: number): Credential => ({ kind: 'secret', name: 's', secret: { reveal: () => 'v' }, expiresOn })

t.test('each credential kind becomes the msal auth option that carries it', async (t) => {
  t.same(credentialAuth(secret()), { clientSecret: 'v' })
  const certAuth = credentialAuth({ kind: 'certificate', name: 'c', privateKey: { reveal: () => cert.keyPem }, certPem: cert.certPem })
  t.same(certAuth.clientCertificate, { thumbprintSha256: certificateThumbprint(cert.certPem), privateKey: cert.keyPem, x5c: cert.certPem })
  const path = join(dir, 'assertion')
  await writeFile(path, 'header.payload.sig\n')
  const assertion = credentialAuth({ kind: 'assertion-file', name: 'a', path }).clientAssertion
  t.equal(typeof assertion, 'function')
  t.equal(await (assertion as (c: unknown) => Promise<string>)({}), 'header.payload.sig')
})

t.test('the thumbprint is the SHA-256 of the certificate\'s DER', async (t) => {
  const der = new X509Certificate(cert.certPem).raw
  t.equal(certificateThumbprint(cert.certPem), createHash('sha256').update(der).digest('hex'))
})

t.test('the assertion reader re-reads only when the file changes', async (t) => {
  const path = join(dir, 'rotating')
  await writeFile(path, 'one')
  const read = createAssertionReader(path)
  t.equal(await read(), 'one')
  t.equal(await read(), 'one')
  await writeFile(path, 'second')
  t.equal(await read(), 'second')
})

t.test('expiry: certificate notAfter, a secret\'s expiresOn, nothing for a federated assertion', async (t) => {
  const notAfter = Date.parse(new X509Certificate(cert.certPem).validTo)
  t.equal(credentialExpiry({ kind: 'certificate', name: 'c', privateKey: { reveal: () => '' }, certPem: cert.certPem }), notAfter)
  t.equal(credentialExpiry(secret(123_000)), 123_000)
  t.equal(credentialExpiry(secret()), undefined)
  t.equal(credentialExpiry({ kind: 'assertion-file', name: 'a', path: '/nowhere' }), undefined)
})

t.test('expiry watch: exports every known expiry, warns ahead and when expired, re-checks, stops', async (t) => {
  let now = 0
  const reports: Array<[string, number]> = []
  const warnings: Array<[string, boolean]> = []
  const stop = watchCredentialExpiry({
    credentials: [
      { kind: 'secret', name: 'soon', secret: { reveal: () => '' }, expiresOn: 20 * DAY },
      { kind: 'secret', name: 'later', secret: { reveal: () => '' }, expiresOn: 90 * DAY },
      { kind: 'secret', name: 'unknown', secret: { reveal: () => '' } }
    ],
    warnMs: 30 * DAY,
    now: () => now,
    everyMs: 5,
    report: (name, at) => reports.push([name, at]),
    warn: (name, _at, expired) => warnings.push([name, expired])
  })
  t.same(reports, [['soon', 20 * DAY], ['later', 90 * DAY]])
  t.same(warnings, [['soon', false]], 'warned at start for the one within 30 days')
  now = 21 * DAY
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.same(warnings.at(-1), ['soon', true], 're-checked: now expired')
  stop()
  const count = warnings.length
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(warnings.length, count, 'stopped')
  const none = watchCredentialExpiry({ credentials: [secret()], warnMs: DAY, now: () => 0, report: () => t.fail(), warn: () => t.fail() })
  none()
})
