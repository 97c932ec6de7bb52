import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import t from 'tap'
import type { Test } from 'tap'
import { buildFromObject, parseConfigText } from '../../src/config/load.js'
import type { LoadedConfig, LoadOptions } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'
import { Secret } from '../../src/config/secret.js'
import { createTestCa } from '../sim/ca.js'

const CLIENT_ID = '0a0b0c0d-1111-4222-8333-444455556666'
const A = 'aaaaaaaa-1111-4111-8111-111111111111'
const B = 'bbbbbbbb-2222-4222-8222-222222222222'
const HASH_1 = 'a'.repeat(64)
const HASH_2 = 'b'.repeat(64)
const ENV_SECRET = 'env-secret-value-7QxY'
const FILE_SECRET = 'file-secret-value-9ZkW'
const ADMIN_SECRET = 'admin-token-value-4MpR'
/** real key material (the loader parses it); the key is also a secret that must never show */
let KEY_PEM = ''
let CERT_PEM = ''
let CA_PEM = ''
const INLINE_SECRET = 'inline-secret-value-3KvT'
const PUBLIC_REGIONS = 'us, eu, uk, au, swa, ina, aea, global'

let dir = ''
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-config-test-'))
  await writeFile(join(dir, 'client-secret.txt'), `${FILE_SECRET}\n`)
  await writeFile(join(dir, 'empty.txt'), '\n')
  const ca = await createTestCa()
  const issued = await ca.issueServerCert(['127.0.0.1'])
  KEY_PEM = issued.keyPem
  CERT_PEM = issued.certPem
  CA_PEM = ca.certPem
  await writeFile(join(dir, 'cert.pem'), CERT_PEM)
  await writeFile(join(dir, 'key.pem'), KEY_PEM)
  await writeFile(join(dir, 'ca.pem'), CA_PEM)
  await writeFile(join(dir, 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n')
  await writeFile(join(dir, 'half-bundle.pem'), `${CA_PEM}\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`)
  await writeFile(join(dir, 'admin-token'), ADMIN_SECRET)
})
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

const options = (env: Record<string, string | undefined> = { GW_SECRET: ENV_SECRET }): LoadOptions => ({ source: 'test.yaml', baseDir: dir, env })

/** The smallest valid config; rows spread their changes over it. */
const minimal = (): Record<string, any> => ({
  identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_SECRET' } }
})

/** A config that uses tenants and clients, for the cross-check rows. */
const withPolicy = (): Record<string, any> => ({
  ...minimal(),
  tenants: [
    { id: A, name: 'contoso', permissions: ['Alert.Read.All'] },
    { id: B, name: 'fabrikam', permissions: ['Alert.Read.All', 'Machine.Read.All'] }
  ],
  clients: [
    { name: 'siem', keySha256: HASH_1, tenants: ['contoso', B], permissions: ['Alert.Read.All'] },
    { name: 'ops', keySha256: HASH_2, tenants: ['*'], permissions: ['Machine.Read.All'] }
  ]
})

function problemsOf (load: () => LoadedConfig): readonly string[] | 'loaded' {
  try {
    load()
    return 'loaded'
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

interface BadRow {
  readonly name: string
  readonly raw: () => Record<string, any>
  readonly env?: Record<string, string | undefined>
  /** every problem, in any order: a string is compared exactly, a RegExp must match */
  readonly problems: ReadonlyArray<string | RegExp>
}

const bad: readonly BadRow[] = [
  { name: 'unknown key at the root', raw: () => ({ ...minimal(), colud: 'public' }), problems: ['(root): Unrecognized key: "colud"'] },
  { name: 'unknown nested key', raw: () => ({ ...minimal(), server: { prot: 1 } }), problems: ['server: Unrecognized key: "prot"'] },
  { name: 'unknown key deep in an array', raw: () => ({ ...withPolicy(), tenants: [{ id: A, permisions: [] }] }), problems: ['tenants[0]: Unrecognized key: "permisions"', "clients[0].tenants[0]: unknown tenant 'contoso'", /^clients\[0\]\.tenants\[1\]: unknown tenant 'bbbbbbbb/] },
  { name: 'unknown key in a secret reference', raw: () => ({ identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_SECRET', value: INLINE_SECRET } } }), problems: ['identity.secret: Unrecognized key: "value"'] },
  { name: 'inline client secret', raw: () => ({ identity: { clientId: CLIENT_ID, secret: INLINE_SECRET } }), problems: ['identity.secret: must be {fromEnv: NAME} or {fromFile: PATH}; secrets are never written inline'] },
  { name: 'inline admin token', raw: () => ({ ...minimal(), admin: { token: INLINE_SECRET } }), problems: [/^admin\.token: must be \{fromEnv: NAME\} or \{fromFile: PATH\}/] },
  { name: 'missing identity', raw: () => ({}), problems: [/^identity: /] },
  { name: 'env var missing', raw: minimal, env: {}, problems: ['identity.secret: environment variable GW_SECRET is not set'] },
  { name: 'env var empty', raw: minimal, env: { GW_SECRET: '' }, problems: ['identity.secret: environment variable GW_SECRET is not set'] },
  { name: 'fromFile missing', raw: () => ({ identity: { clientId: CLIENT_ID, secret: { fromFile: 'nope.txt' } } }), problems: ['identity.secret: cannot read file nope.txt: ENOENT'] },
  { name: 'fromFile empty', raw: () => ({ identity: { clientId: CLIENT_ID, secret: { fromFile: 'empty.txt' } } }), problems: ['identity.secret: file empty.txt is empty'] },
  { name: 'admin token file missing', raw: () => ({ ...minimal(), admin: { token: { fromFile: 'no-token' } } }), problems: ['admin.token: cannot read file no-token: ENOENT'] },
  { name: 'publicUrl with user, query or fragment', raw: () => ({ ...minimal(), server: { publicUrl: 'https://u@gw.example.com/?a=b' } }), problems: ['server.publicUrl: must be a base URL without user, query or fragment'] },
  {
    name: 'credentials in any URL: one problem per path, all at once, never the password',
    raw: () => ({
      identity: { ...minimal().identity, authorityHost: 'https://u:PASS-1@login.example.com' },
      graph: { url: 'https://u:PASS-2@graph.example.com' },
      upstream: { regions: { eu: 'https://u:PASS-3@eu.example.com', us: 'https://PASS-4@us.example.com' } }
    }),
    problems: [
      'identity.authorityHost: must not contain a user name or password (secrets go in {fromEnv} or {fromFile})',
      'graph.url: must not contain a user name or password (secrets go in {fromEnv} or {fromFile})',
      'upstream.regions.eu: must not contain a user name or password (secrets go in {fromEnv} or {fromFile})',
      'upstream.regions.us: must not contain a user name or password (secrets go in {fromEnv} or {fromFile})'
    ]
  },
  {
    name: 'plain http to an upstream that is not loopback (bearer tokens in clear)',
    raw: () => ({ ...minimal(), graph: { url: 'http://graph.example.com' }, upstream: { regions: { eu: 'http://eu.example.com:8080', lo: 'http://127.0.0.1:9', l6: 'http://[::1]:9', lh: 'http://localhost:9' } } }),
    problems: [
      'graph.url: must be https (it carries bearer tokens); http only to a loopback host (127.0.0.1, ::1, localhost)',
      'upstream.regions.eu: must be https (it carries bearer tokens); http only to a loopback host (127.0.0.1, ::1, localhost)'
    ]
  },
  { name: 'nextLink host that is not a host name', raw: () => ({ ...minimal(), upstream: { nextLinkHosts: ['https://evil.example/'] } }), problems: ['upstream.nextLinkHosts[0]: must be a host name or host:port'] },
  { name: 'inflate limits too small', raw: () => ({ ...minimal(), upstream: { maxInflatedBytes: 1000, maxInflationRatio: 1 } }), problems: [/^upstream\.maxInflatedBytes: /, /^upstream\.maxInflationRatio: /] },
  {
    name: 'unreadable key material: each file named by its path, never its content',
    raw: () => ({
      identity: { clientId: CLIENT_ID, certificate: { keyFile: 'garbage.pem', certFile: 'garbage.pem' } },
      trust: { caFile: 'half-bundle.pem' },
      server: { tls: { certFile: 'key.pem', keyFile: 'cert.pem' } }
    }),
    problems: [
      'identity.certificate.keyFile: not a readable private key (PEM, unencrypted: BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)',
      'identity.certificate.certFile: not a readable X.509 certificate (PEM: BEGIN CERTIFICATE)',
      'trust.caFile: certificate 2 of the bundle is not a readable X.509 certificate',
      'server.tls.certFile: not a readable X.509 certificate (PEM: BEGIN CERTIFICATE)',
      'server.tls.keyFile: not a readable private key (PEM, unencrypted: BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)'
    ]
  },
  { name: 'a CA file without certificates', raw: () => ({ ...minimal(), trust: { caFile: 'client-secret.txt' } }), problems: ['trust.caFile: holds no PEM certificate (BEGIN CERTIFICATE)'] },
  { name: 'trust.caFile missing', raw: () => ({ ...minimal(), trust: { caFile: 'no-ca.pem' } }), problems: ['trust.caFile: cannot read file no-ca.pem: ENOENT'] },
  {
    name: 'both secret and certificate',
    raw: () => ({ identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_SECRET' }, certificate: { keyFile: 'key.pem', certFile: 'cert.pem' } } }),
    problems: ['identity: set exactly one of secret or certificate']
  },
  { name: 'neither secret nor certificate', raw: () => ({ identity: { clientId: CLIENT_ID } }), problems: ['identity: set exactly one of secret or certificate'] },
  {
    name: 'certificate files missing',
    raw: () => ({ identity: { clientId: CLIENT_ID, certificate: { keyFile: 'none.key', certFile: 'none.crt' } } }),
    problems: ['identity.certificate.keyFile: cannot read file none.key: ENOENT', 'identity.certificate.certFile: cannot read file none.crt: ENOENT']
  },
  {
    name: 'client names an unknown tenant',
    raw: () => { const c = withPolicy(); c.clients[0].tenants = ['contoso', 'contso']; return c },
    problems: ["clients[0].tenants[1]: unknown tenant 'contso'"]
  },
  {
    name: 'client names an unconfigured tenant id',
    raw: () => { const c = withPolicy(); c.clients[1].tenants = ['cccccccc-3333-4333-8333-333333333333']; return c },
    problems: ["clients[1].tenants[0]: unknown tenant 'cccccccc-3333-4333-8333-333333333333'"]
  },
  {
    name: 'unknown client permission lists the valid names',
    raw: () => { const c = withPolicy(); c.clients[0].permissions = ['Alert.Read']; return c },
    problems: [/^clients\[0\]\.permissions\[0\]: unknown permission 'Alert\.Read'; valid: Alert\.Read\.All, Alert\.ReadWrite\.All, .*Machine\.Isolate.*Url\.Read\.All/]
  },
  {
    name: 'unknown tenant permission',
    raw: () => { const c = withPolicy(); c.tenants[1].permissions = ['Machine.Read.All', 'Machines.Read.All']; return c },
    problems: [/^tenants\[1\]\.permissions\[1\]: unknown permission 'Machines\.Read\.All'; valid: /]
  },
  {
    name: 'duplicate tenant id (case differs)',
    raw: () => { const c = withPolicy(); c.tenants[1].id = A.toUpperCase(); c.clients[0].tenants = ['contoso']; return c },
    problems: [`tenants[1]: '${A}' is used by another tenant`]
  },
  {
    name: 'duplicate tenant name (case differs)',
    raw: () => { const c = withPolicy(); c.tenants[1].name = 'Contoso'; return c },
    problems: ["tenants[1]: 'contoso' is used by another tenant"]
  },
  {
    name: 'reserved tenant names (Entra authorities, the onboarding callback), every one reported',
    raw: () => { const c = withPolicy(); c.tenants[0].name = 'Organizations'; c.tenants[1].name = 'callback'; c.clients[0].tenants = ['*']; c.clients[1].tenants = ['*']; return c },
    problems: [
      "tenants[0].name: 'organizations' is reserved (common, consumers, organizations, callback); choose another name",
      "tenants[1].name: 'callback' is reserved (common, consumers, organizations, callback); choose another name"
    ]
  },
  {
    name: 'duplicate client name',
    raw: () => { const c = withPolicy(); c.clients[1].name = 'siem'; return c },
    problems: ["clients[1].name: 'siem' is used by another client"]
  },
  {
    name: 'duplicate key hash (case differs)',
    raw: () => { const c = withPolicy(); c.clients[1].keySha256 = HASH_1.toUpperCase(); return c },
    problems: ['clients[1].keySha256: the same key hash is used by another client']
  },
  {
    name: 'keySha256 too short',
    raw: () => { const c = withPolicy(); c.clients[0].keySha256 = 'a'.repeat(63); return c },
    problems: ['clients[0].keySha256: must be the hex SHA-256 of the key (64 hex digits)']
  },
  {
    name: 'keySha256 not hex',
    raw: () => { const c = withPolicy(); c.clients[0].keySha256 = 'g'.repeat(64); return c },
    problems: ['clients[0].keySha256: must be the hex SHA-256 of the key (64 hex digits)']
  },
  { name: 'bad identity.clientId', raw: () => ({ identity: { clientId: 'not-a-guid', secret: { fromEnv: 'GW_SECRET' } } }), problems: ['identity.clientId: must be a GUID'] },
  {
    name: 'tenant id in braces',
    raw: () => { const c = withPolicy(); c.tenants[0].id = `{${A}}`; return c },
    problems: ['tenants[0].id: must be a GUID']
  },
  {
    name: 'unknown region in tenant.regions',
    raw: () => { const c = withPolicy(); c.tenants[0].regions = ['eu', 'mars']; return c },
    problems: [`tenants[0].regions[1]: unknown region 'mars'; known: ${PUBLIC_REGIONS}`]
  },
  { name: 'unknown upstream.region', raw: () => ({ ...minimal(), upstream: { region: 'mars' } }), problems: [`upstream.region: unknown region 'mars'; use auto or one of: ${PUBLIC_REGIONS}`] },
  {
    name: 'upstream.regions replaces the region names (upstream.region)',
    raw: () => ({ ...minimal(), upstream: { region: 'eu', regions: { west: 'https://west.example', east: 'https://east.example' } } }),
    problems: ["upstream.region: unknown region 'eu'; use auto or one of: west, east"]
  },
  {
    name: 'upstream.regions replaces the region names (tenant.regions)',
    raw: () => { const c = withPolicy(); c.upstream = { regions: { west: 'https://west.example' } }; c.tenants[0].regions = ['west', 'eu']; return c },
    problems: ["tenants[0].regions[1]: unknown region 'eu'; known: west"]
  },
  {
    name: 'the cloud picks the region names',
    raw: () => ({ ...minimal(), cloud: 'gcc-high', upstream: { region: 'eu' } }),
    problems: ["upstream.region: unknown region 'eu'; use auto or one of: gov"]
  },
  { name: 'unknown cloud', raw: () => ({ ...minimal(), cloud: 'azure-china' }), problems: [/^cloud: /] },
  { name: 'port out of range', raw: () => ({ ...minimal(), server: { port: 70000 } }), problems: [/^server\.port: /] },
  { name: 'client without tenants', raw: () => { const c = withPolicy(); c.clients[0].tenants = []; return c }, problems: [/^clients\[0\]\.tenants: /] },
  {
    name: 'five post-schema problems at once',
    raw: () => {
      const c = withPolicy()
      c.clients[0].tenants = ['contso']
      c.clients[1].permissions = ['Machine.Reed.All']
      c.tenants[1].regions = ['mars']
      c.upstream = { region: 'venus' }
      return c
    },
    env: {},
    problems: [
      "clients[0].tenants[0]: unknown tenant 'contso'",
      /^clients\[1\]\.permissions\[0\]: unknown permission 'Machine\.Reed\.All'/,
      /^tenants\[1\]\.regions\[0\]: unknown region 'mars'/,
      /^upstream\.region: unknown region 'venus'/,
      'identity.secret: environment variable GW_SECRET is not set'
    ]
  },
  {
    name: 'five problems of both kinds (schema and cross-check) at once',
    raw: () => {
      const c = withPolicy()
      c.colud = 'public'
      c.tenants[0].id = 'not-a-guid'
      c.clients[1].tenants = ['contso']
      c.upstream = { region: 'venus' }
      return c
    },
    env: {},
    problems: [
      '(root): Unrecognized key: "colud"',
      'tenants[0].id: must be a GUID',
      "clients[1].tenants[0]: unknown tenant 'contso'",
      /^upstream\.region: unknown region 'venus'/,
      'identity.secret: environment variable GW_SECRET is not set'
    ]
  }
]

function checkProblems (t: Test, name: string, got: readonly string[] | 'loaded', expected: ReadonlyArray<string | RegExp>): void {
  if (got === 'loaded') {
    t.fail(`${name}: loaded, expected ${expected.length} problem(s)`)
    return
  }
  const missing = expected.filter((e) => !got.some((p) => typeof e === 'string' ? p === e : e.test(p)))
  t.same(missing.map(String), [], `${name}: every expected problem is reported (got ${JSON.stringify(got)})`)
  t.equal(got.length, expected.length, `${name}: no other problems`)
}

t.test('invalid configs: every problem, with its path', async (t) => {
  for (const row of bad) {
    checkProblems(t, row.name, problemsOf(() => buildFromObject(row.raw(), options(row.env))), row.problems)
  }
})

t.test('problem messages never contain secret values', async (t) => {
  for (const row of bad) {
    try {
      buildFromObject(row.raw(), options({ GW_SECRET: row.env === undefined ? ENV_SECRET : row.env.GW_SECRET }))
    } catch (err) {
      const text = `${String(err)} ${inspect(err, { depth: Infinity })}`
      for (const secret of [INLINE_SECRET, ENV_SECRET, FILE_SECRET, KEY_PEM]) t.notOk(text.includes(secret), `${row.name}: no ${secret}`)
    }
  }
})

t.test('a minimal config loads with the documented defaults', async (t) => {
  const loaded = buildFromObject(minimal(), options())
  t.match(loaded.config, {
    server: { host: '0.0.0.0', port: 8080 },
    admin: { host: '127.0.0.1', port: 9464 },
    cloud: 'public',
    upstream: { region: 'auto' },
    tenants: [],
    clients: []
  })
  t.equal(loaded.source, 'test.yaml')
  t.ok(loaded.secrets.clientSecret instanceof Secret)
  t.equal(loaded.secrets.clientSecret?.reveal(), ENV_SECRET)
  t.equal(loaded.secrets.adminToken, undefined)
})

t.test('valid rows: names normalised', async (t) => {
  const raw = withPolicy()
  raw.tenants[0].permissions = ['url.read.all', 'ALERT.READ.ALL']
  raw.tenants[0].id = A.toUpperCase()
  raw.clients[0].permissions = ['url.read.all']
  raw.clients[0].tenants = ['CONTOSO', B.toUpperCase()]
  raw.clients[0].keySha256 = HASH_1.toUpperCase()
  raw.upstream = { region: 'west', regions: { west: 'https://west.example' } }
  raw.tenants[1].regions = ['west']
  const { config } = buildFromObject(raw, options())
  t.same(config.tenants[0]?.permissions, ['Url.Read.All', 'Alert.Read.All'], 'tenant permissions in canonical case')
  t.same(config.clients[0]?.permissions, ['Url.Read.All'], 'client permissions in canonical case')
  t.equal(config.tenants[0]?.id, A, 'tenant id lowercased')
  t.same(config.clients[0]?.tenants, [A, B], 'client tenant names and ids resolved to lowercase ids')
  t.same(config.clients[1]?.tenants, ['*'])
  t.equal(config.clients[0]?.keySha256, HASH_1, 'key hash lowercased')
  t.equal(config.upstream.region, 'west')
})

t.test('fromFile is read relative to baseDir and trimmed', async (t) => {
  const loaded = buildFromObject({ identity: { clientId: CLIENT_ID, secret: { fromFile: 'client-secret.txt' } } }, options({}))
  t.equal(loaded.secrets.clientSecret?.reveal(), FILE_SECRET)
  const absolute = buildFromObject({ identity: { clientId: CLIENT_ID, secret: { fromFile: join(dir, 'client-secret.txt') } } }, options({}))
  t.equal(absolute.secrets.clientSecret?.reveal(), FILE_SECRET)
})

const full = (): Record<string, any> => ({
  ...withPolicy(),
  server: { host: '127.0.0.1', port: 0, publicUrl: 'https://gw.example.com', tls: { certFile: 'cert.pem', keyFile: 'key.pem' } },
  admin: { token: { fromFile: 'admin-token' } },
  identity: { clientId: CLIENT_ID, certificate: { keyFile: 'key.pem', certFile: 'cert.pem' } },
  trust: { caFile: 'ca.pem' },
  upstream: { regions: { eu: 'https://eu.example' } }
})

function unfrozen (value: unknown, path: string, out: string[]): string[] {
  if (value === null || typeof value !== 'object' || value instanceof Secret) return out
  if (!Object.isFrozen(value)) out.push(path)
  for (const [k, v] of Object.entries(value)) unfrozen(v, `${path}.${k}`, out)
  return out
}

t.test('the result is deeply frozen', async (t) => {
  for (const [name, raw] of [['minimal', minimal()], ['full', full()]] as const) {
    const loaded = buildFromObject(raw, options())
    t.same(unfrozen(loaded, 'loaded', []), [], `${name}: every object and array is frozen`)
    t.throws(() => { (loaded.config.server as { port: number }).port = 1 }, TypeError, `${name}: cannot change server.port`)
    t.throws(() => { (loaded.config.clients as unknown[]).push({}) }, TypeError, `${name}: cannot add a client`)
  }
})

t.test('JSON.stringify and util.inspect never show secret values', async (t) => {
  const loaded = buildFromObject(full(), options())
  t.equal(loaded.secrets.adminToken?.reveal(), ADMIN_SECRET)
  t.equal(loaded.secrets.certificateKey?.reveal(), KEY_PEM)
  t.equal(loaded.files.tls?.key.reveal(), KEY_PEM)
  t.equal(loaded.files.caPem, CA_PEM)
  t.equal(loaded.files.certificatePem, CERT_PEM)
  const fromEnv = buildFromObject(minimal(), options())
  for (const [name, value] of [['full', loaded], ['minimal', fromEnv]] as const) {
    const texts = [JSON.stringify(value), inspect(value, { depth: Infinity }), inspect(value, { depth: Infinity, showHidden: true }), String(value.secrets.clientSecret)]
    for (const text of texts) {
      for (const secret of [ENV_SECRET, ADMIN_SECRET, KEY_PEM]) t.notOk(text.includes(secret), `${name}: ${secret} not in ${text.slice(0, 40)}...`)
    }
  }
  t.match(JSON.stringify(fromEnv), /"clientSecret":"\[redacted\]"/)
})

interface TextRow { readonly name: string, readonly text: string, readonly problems: ReadonlyArray<string | RegExp> | 'loaded' }

const yamlRows: readonly TextRow[] = [
  {
    name: 'valid YAML',
    text: `identity:\n  clientId: ${CLIENT_ID}\n  secret: {fromEnv: GW_SECRET}\ntenants:\n  - {id: ${A}, name: contoso, permissions: [url.read.all]}\n`,
    problems: 'loaded'
  },
  { name: 'empty document', text: '', problems: [/^identity: /] },
  { name: 'YAML syntax error', text: `identity:\n  clientId: ${CLIENT_ID}\n  secret: {fromEnv: GW_SECRET\n`, problems: [/^yaml: line \d+, column \d+: /] },
  { name: 'YAML bad indentation', text: 'identity:\n  clientId: x\n secret: y\n', problems: [/^yaml: line \d+, column \d+: /] },
  { name: 'duplicate YAML keys at the root', text: `identity:\n  clientId: ${CLIENT_ID}\n  secret: {fromEnv: GW_SECRET}\ncloud: public\ncloud: gcc\n`, problems: [/^yaml: line 5, column 1: .*unique/i] },
  { name: 'duplicate YAML keys nested', text: `identity:\n  clientId: ${CLIENT_ID}\n  clientId: ${CLIENT_ID}\n  secret: {fromEnv: GW_SECRET}\n`, problems: [/^yaml: line \d+, column \d+: .*unique/i] },
  { name: 'YAML inline secret', text: `identity:\n  clientId: ${CLIENT_ID}\n  secret: ${INLINE_SECRET}\n`, problems: [/^identity\.secret: must be \{fromEnv: NAME\} or \{fromFile: PATH\}/] },
  { name: 'YAML unknown key path', text: `identity:\n  clientId: ${CLIENT_ID}\n  secret: {fromEnv: GW_SECRET}\nserver:\n  tls: {certFile: a, keyFile: b, caFile: c}\n`, problems: ['server.tls: Unrecognized key: "caFile"'] }
]

t.test('parseConfigText: YAML in, problems out', async (t) => {
  for (const row of yamlRows) {
    const got = problemsOf(() => parseConfigText(row.text, options()))
    if (row.problems === 'loaded') t.equal(got, 'loaded', `${row.name}: loads`)
    else checkProblems(t, row.name, got, row.problems)
  }
  const loaded = parseConfigText(yamlRows[0]?.text ?? '', options())
  t.same(loaded.config.tenants[0]?.permissions, ['Url.Read.All'])
  t.ok(Object.isFrozen(loaded.config.tenants))
})

t.test('ConfigError lists every problem in its message', async (t) => {
  const err = t.throws(() => buildFromObject({ identity: { clientId: 'x' }, foo: 1 }, options()))
  t.ok(err instanceof ConfigError)
  if (err instanceof ConfigError) {
    t.equal(err.problems.length, 2)
    for (const p of err.problems) t.ok(err.message.includes(p), `message includes ${p}`)
    t.match(err.message, /test\.yaml/)
  }
})

t.test('--without-secrets skips the key material it does not read', async (t) => {
  const raw = { identity: { clientId: CLIENT_ID, certificate: { keyFile: 'garbage.pem', certFile: 'garbage.pem' } }, trust: { caFile: 'garbage.pem' } }
  const loaded = buildFromObject(raw, { ...options(), skipSecrets: true })
  t.match(loaded.unchecked, ['identity.certificate.keyFile (file garbage.pem)'])
})
