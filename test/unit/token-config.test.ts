import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildFromObject, type LoadOptions } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'
import { tokenEndpoint } from '../../src/tokens/wiring.js'
import { createTestCa } from '../sim/ca.js'

// The identity, tokens and cloud parts of the config: credential forms, their problems, defaults.
const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
let dir = ''
let CERT_PEM = ''
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-token-config-'))
  const issued = await (await createTestCa()).issueServerCert(['127.0.0.1'])
  await writeFile(join(dir, 'key.pem'), issued.keyPem)
  CERT_PEM = issued.certPem
  await writeFile(join(dir, 'cert.pem'), CERT_PEM)
  await writeFile(join(dir, 'token'), 'header.payload.sig')
})
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

const options = (): LoadOptions => ({ source: 'test', baseDir: dir, env: { NEW: 'new-secret', OLD: 'old-secret' } })
const load = (identity: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  buildFromObject({ identity: { clientId: CLIENT_ID, ...identity }, ...extra }, options())

function problems (identity: Record<string, unknown>): readonly string[] {
  try {
    load(identity)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('a credentials list: tried in order, named by their place unless named, secrets resolved', async (t) => {
  const loaded = load({
    credentials: [
      { name: 'new-2026', secret: { fromEnv: 'NEW' }, expiresOn: '2027-03-31' },
      { secret: { fromEnv: 'OLD' } },
      { certificate: { keyFile: 'key.pem', certFile: 'cert.pem' } },
      { assertionFile: 'token' }
    ]
  })
  const creds = loaded.credentials
  t.same(creds.map((c) => [c.kind, c.name]), [
    ['secret', 'new-2026'], ['secret', 'identity.credentials[1]'], ['certificate', 'identity.credentials[2]'], ['assertion-file', 'identity.credentials[3]']
  ])
  t.match(creds[0], { expiresOn: Date.parse('2027-03-31') })
  t.equal(creds[0]!.kind === 'secret' && creds[0]!.secret.reveal(), 'new-secret')
  t.equal(creds[2]!.kind === 'certificate' && creds[2]!.certPem, CERT_PEM)
  t.equal(creds[3]!.kind === 'assertion-file' && creds[3]!.path, join(dir, 'token'), 'absolute path')
  t.notOk(JSON.stringify(loaded).includes('new-secret'), 'no secret in JSON')
})

t.test('the shorthands still work and name themselves after their key', async (t) => {
  t.same(load({ secret: { fromEnv: 'OLD' } }).credentials.map((c) => c.name), ['identity.secret'])
  t.same(load({ certificate: { keyFile: 'key.pem', certFile: 'cert.pem' } }).credentials.map((c) => c.name), ['identity.certificate'])
  const assertion = load({ assertionFile: 'token' }).credentials
  t.same(assertion.map((c) => [c.kind, c.name]), [['assertion-file', 'identity.assertionFile']])
})

t.test('identity problems, all at once', async (t) => {
  const rows: Array<[string, Record<string, unknown>, Array<string | RegExp>]> = [
    ['secret and credentials', { secret: { fromEnv: 'OLD' }, credentials: [{ secret: { fromEnv: 'OLD' } }] }, ['identity: set exactly one of secret, certificate, assertionFile or credentials']],
    ['assertion file and certificate', { assertionFile: 'token', certificate: { keyFile: 'key.pem', certFile: 'cert.pem' } }, ['identity: set exactly one of secret, certificate, assertionFile or credentials']],
    ['item with two kinds, expiresOn on a certificate, duplicate names', {
      credentials: [
        { name: 'a', secret: { fromEnv: 'OLD' }, assertionFile: 'token' },
        { name: 'A', certificate: { keyFile: 'key.pem', certFile: 'cert.pem' }, expiresOn: '2027-01-01' },
        { name: 'b' }
      ]
    }, [
      'identity.credentials[0]: set exactly one of secret, certificate or assertionFile',
      'identity.credentials[1].expiresOn: only for a secret (a certificate carries its own expiry)',
      "identity.credentials[1].name: 'A' is used by another credential",
      'identity.credentials[2]: set exactly one of secret, certificate or assertionFile'
    ]],
    ['unreadable material', { credentials: [{ secret: { fromEnv: 'NOPE' } }, { assertionFile: 'missing' }, { certificate: { keyFile: 'nokey', certFile: 'nocert' } }] }, [
      'identity.credentials[0].secret: environment variable NOPE is not set',
      'identity.credentials[1].assertionFile: cannot read file missing: ENOENT',
      'identity.credentials[2].certificate.keyFile: cannot read file nokey: ENOENT',
      'identity.credentials[2].certificate.certFile: cannot read file nocert: ENOENT'
    ]],
    ['bad date, empty list', { credentials: [] }, [/^identity\.credentials: /]],
    ['bad date', { credentials: [{ secret: { fromEnv: 'OLD' }, expiresOn: 'next spring' }] }, [/^identity\.credentials\[0\]\.expiresOn: must be a date/]]
  ]
  for (const [name, identity, expected] of rows) {
    const got = problems(identity)
    t.equal(got.length, expected.length, `${name}: ${got.join(' | ')}`)
    expected.forEach((e, i) => t.match(got[i], e, name))
  }
})

t.test('token settings have defaults and bounds', async (t) => {
  const { tokens, identity } = load({ secret: { fromEnv: 'OLD' } }).config
  t.same({ ...tokens, backoff: { ...tokens.backoff } }, {
    skewSeconds: 300, maxTenants: 50_000, timeoutMs: 10_000, refreshAheadSeconds: 600, reacquireCooldownMs: 30_000, notOnboardedTtlSeconds: 30, backoff: { initialMs: 1000, maxMs: 60_000 }
  })
  t.equal(identity.expiryWarningDays, 30)
  t.throws(() => load({ secret: { fromEnv: 'OLD' } }, { tokens: { backoff: { initialMs: -1 } } }), /tokens\.backoff\.initialMs/)
  t.throws(() => load({ secret: { fromEnv: 'OLD' } }, { tokens: { reacquireCooldownMs: -1 } }), /tokens\.reacquireCooldownMs/)
  t.equal(load({ secret: { fromEnv: 'OLD' } }, { tokens: { reacquireCooldownMs: 0 } }).config.tokens.reacquireCooldownMs, 0, '0: single-flight only')
})

t.test('the cloud picks the login host and the token scope; each can be overridden', async (t) => {
  const rows: Array<[string, Record<string, string>, string, string]> = [
    ['public', {}, 'https://login.microsoftonline.com', 'https://api.securitycenter.microsoft.com/.default'],
    ['gcc', {}, 'https://login.microsoftonline.com', 'https://api-gcc.securitycenter.microsoft.us/.default'],
    ['gcc-high', {}, 'https://login.microsoftonline.us', 'https://api-gov.securitycenter.microsoft.us/.default'],
    ['dod', {}, 'https://login.microsoftonline.us', 'https://api-gov.securitycenter.microsoft.us/.default'],
    ['public', { authorityHost: 'https://login.example', resource: 'https://securitycenter.onmicrosoft.com/windowsatpservice' }, 'https://login.example', 'https://securitycenter.onmicrosoft.com/windowsatpservice/.default']
  ]
  for (const [cloud, overrides, authorityHost, scope] of rows) {
    const { config } = load({ secret: { fromEnv: 'OLD' }, ...overrides }, { cloud })
    t.same(tokenEndpoint(config), { authorityHost, scope, resource: scope.replace(/\/\.default$/, '') }, `${cloud} ${JSON.stringify(overrides)}`)
  }
})
