import t from 'tap'
import { childEnv } from '../child-env.js'
import { killTracked, spawnTracked } from '../processes.js'
import { once } from 'node:events'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfigFile } from '../../src/config/load.js'

async function runServer (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stderr: string }> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', 'src/server.ts', ...args], {
    env: childEnv({ GATEWAY_CONFIG: '', ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
    group: true
  })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  const [code] = await once(child, 'exit')
  await killTracked(child)
  return { code, stderr }
}

t.test('every file in config/ is a valid config', async (t) => {
  const files = (await readdir('config')).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  t.ok(files.length > 0)
  for (const file of files) {
    const loaded = loadConfigFile(join('config', file), { GATEWAY_CLIENT_SECRET: 'x', GATEWAY_ADMIN_TOKEN: 'y', GATEWAY_OAUTH_SIGNING_KEY: 'k'.repeat(32), GATEWAY_REDIS_TOKEN_KEY: 'r'.repeat(32), GATEWAY_REDIS_PASSWORD: 'p' })
    t.ok(loaded.config.identity.clientId, `${file} loads`)
  }
})

t.test('an invalid config exits 1 and lists every problem once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'bad.yaml')
  await writeFile(file, [
    'server: { port: 99999, colour: blue }',
    'identity: { clientId: not-a-guid, secret: plaintext }',
    'tenants:',
    '  - { id: 11111111-1111-4111-8111-111111111111, name: contoso, permissions: [Alert.Read.Al] }',
    'clients:',
    '  - { name: siem, keySha256: abc, tenants: [contso] }',
    ''
  ].join('\n'))
  const { code, stderr } = await runServer(['--config', file])
  t.equal(code, 1)
  for (const expected of ['server.port', 'server: Unrecognized key', 'colour', 'identity.clientId', 'identity.secret', 'clients[0].keySha256']) {
    t.match(stderr, expected)
    t.equal(stderr.split(expected).length - 1 >= 1, true)
  }
  t.notOk(stderr.includes('plaintext'), 'the inline secret value is not echoed')
})

t.test('cross-reference problems are reported together too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'bad.yaml')
  await writeFile(file, [
    'identity: { clientId: 11111111-1111-4111-8111-111111111111, secret: {fromEnv: NOT_SET_ANYWHERE} }',
    'upstream: { region: mars }',
    'tenants:',
    '  - { id: 11111111-1111-4111-8111-111111111111, name: contoso, permissions: [Alert.Read.Al] }',
    'clients:',
    '  - { name: siem, keySha256: 5f2b8c1e0d4a9b7c6e3f2a1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b, tenants: [contso] }',
    ''
  ].join('\n'))
  const { code, stderr } = await runServer([], { GATEWAY_CONFIG: file })
  t.equal(code, 1, 'GATEWAY_CONFIG is used when --config is absent')
  t.match(stderr, "clients[0].tenants[0]: unknown tenant 'contso'")
  t.match(stderr, "tenants[0].permissions[0]: unknown permission 'Alert.Read.Al'; valid: Alert.Read.All")
  t.match(stderr, "upstream.region: unknown region 'mars'")
  t.match(stderr, 'identity.secret: environment variable NOT_SET_ANYWHERE is not set')
})

t.test('a missing config file is a clear error', async (t) => {
  const { code, stderr } = await runServer(['--config', '/nonexistent/gateway.yaml'])
  t.equal(code, 1)
  t.match(stderr, 'cannot read config file')
})
