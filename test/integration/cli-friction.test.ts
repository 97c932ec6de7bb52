import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runToEnd, type Finished } from '../shell.js'

// The CLI as a newcomer runs it right after `npm ci`: through the npm script, with no build step.
t.setTimeout(300_000)

/** `npm run -s cli -- ARGS`, exactly as the README says. */
const npmCli = async (args: readonly string[], env?: Record<string, string>): Promise<Finished> => await runToEnd('npm', ['run', '-s', 'cli', '--', ...args], env)
/** What that script runs, without npm's own start-up (for the cases that are not about the script). */
const cli = async (args: readonly string[], env?: Record<string, string>): Promise<Finished> => await runToEnd(process.execPath, ['--import', 'tsx', 'src/server.ts', ...args], env)

const EXAMPLE = 'config/gateway.yaml'
const EXAMPLE_ENV = { GATEWAY_CLIENT_SECRET: 'not-a-real-secret', GATEWAY_ADMIN_TOKEN: 'not-a-real-token' }

t.test('--help and -h print usage and exit 0, for the program and every command', async (t) => {
  const program = await npmCli(['--help'])
  t.equal(program.code, 0, 'npm run cli -- --help')
  for (const command of ['serve', 'keygen', 'check-config', 'consent-url', 'tenant-status']) t.match(program.out, `  ${command}`, `lists ${command}`)
  t.equal((await cli(['-h'])).out, program.out, '-h is the same')
  const cases = [['serve', '--help'], ['keygen', '-h'], ['check-config', '--help'], ['consent-url', '-h'], ['tenant-status', '--help']] as const
  for (const [command, flag] of cases) {
    const res = await cli([command, flag])
    t.equal(res.code, 0, `${command} ${flag}`)
    t.match(res.out, `usage: defender-gateway ${command === 'serve' ? '[serve]' : command}`, `${command} ${flag}: its own usage`)
    t.equal(res.err, '', 'nothing on stderr')
  }
  const unknown = await cli(['frobnicate', '--help'])
  t.equal(unknown.code, 2, 'an unknown command is still an error')
  t.match(unknown.err, "unknown command 'frobnicate'")
})

t.test('consent-url and tenant-status refuse a tenant that is not configured, with exit 1', async (t) => {
  const consent = await npmCli(['consent-url', 'contso', '--config', EXAMPLE])
  t.equal(consent.code, 1)
  t.equal(consent.out, '', 'no link for a stranger')
  t.match(consent.err, "tenant 'contso' is not in config/gateway.yaml; configured: contoso, fabrikam")
  const known = await cli(['consent-url', 'Contoso', '--config', EXAMPLE])
  t.equal(known.code, 0, 'a configured name (any case) works, with no secret present')
  t.match(known.out, /^https:\/\/login\.microsoftonline\.com\/6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\/adminconsent\?client_id=/)
  // With every secret set, so the refusal is about the tenant: nothing is asked of Entra ID (its real
  // host is in this config, and the test never leaves loopback).
  const status = await cli(['tenant-status', '99999999-9999-4999-8999-999999999999', '--config', EXAMPLE], EXAMPLE_ENV)
  t.equal(status.code, 1)
  t.match(status.err, "tenant '99999999-9999-4999-8999-999999999999' is not in config/gateway.yaml")
  t.notMatch(status.err + status.out, 'not-a-real-secret')
})

t.test('check-config: YAML errors with line and column; --without-secrets validates where the secrets are not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-cli-friction-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const broken = join(dir, 'broken.yaml')
  await writeFile(broken, 'server:\n  port: 8080\nidentity:\n  clientId: x\n  secret: {fromEnv: S\ntenants: []\n')
  const syntax = await cli(['check-config', broken])
  t.equal(syntax.code, 1)
  t.match(syntax.err, /yaml: line \d+, column \d+: /)

  const strict = await cli(['check-config', EXAMPLE])
  t.equal(strict.code, 1, 'without the secrets, a plain check fails...')
  t.match(strict.err, 'identity.secret: environment variable GATEWAY_CLIENT_SECRET is not set')
  const lenient = await npmCli(['check-config', EXAMPLE, '--without-secrets'])
  t.equal(lenient.code, 0, '...and --without-secrets passes')
  t.match(lenient.out, 'config/gateway.yaml: ok (2 tenants, 2 clients')
  t.match(lenient.out, 'not checked (--without-secrets): identity.secret (env GATEWAY_CLIENT_SECRET), admin.token (env GATEWAY_ADMIN_TOKEN)')

  const wrong = join(dir, 'wrong.yaml')
  await writeFile(wrong, 'identity: { clientId: 11111111-1111-4111-8111-111111111111, secret: {fromEnv: NOPE} }\ntenants: [{ id: 11111111-1111-4111-8111-111111111111, permissions: [Alert.Read.Al] }]\nclients: []\n')
  const still = await cli(['check-config', wrong, '--without-secrets'])
  t.equal(still.code, 1, 'every other problem is still reported')
  t.match(still.err, "tenants[0].permissions[0]: unknown permission 'Alert.Read.Al'")
  t.notMatch(still.err, 'NOPE is not set', 'but not the secret it was told to skip')
})
