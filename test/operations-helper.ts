import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { keyHash } from '../src/callers/authenticate.js'
import { childEnv } from './child-env.js'
import { startSimWorld, type SimWorld } from './sim/index.js'
import { ALL_ROLES, CLIENT_ID, CLIENT_SECRET, READ_ROLES, TENANT_A, TENANT_C } from './helper.js'

/** A gateway running as its own process (`node src/server.ts`), as operators run it. */
export interface GatewayProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly adminUrl: string
  /** everything the process wrote to stdout (pino JSON lines) */
  readonly output: () => string
  readonly exited: Promise<number | null>
}

export interface OpsWorld {
  readonly sim: SimWorld
  readonly dir: string
  readonly key: string
  /** writes the config file the process reads (again, for reloads) */
  writeConfig (extra?: Record<string, unknown>): Promise<string>
  config (extra?: Record<string, unknown>): Record<string, any>
  close (): Promise<void>
}

export async function startOpsWorld (): Promise<OpsWorld> {
  const sim = await startSimWorld({ clientId: CLIENT_ID, clientSecrets: [CLIENT_SECRET], grants: { [TENANT_A]: ALL_ROLES, [TENANT_C]: READ_ROLES }, regions: ['eu'], defender: { ratePerMinute: 1_000_000 } })
  const dir = await mkdtemp(join(tmpdir(), 'gw-ops-'))
  const key = 'ops-test-key-0123456789abcdef'
  const config = (extra: Record<string, unknown> = {}): Record<string, any> => ({
    server: { host: '127.0.0.1', port: 0, drainDelayMs: 300 },
    admin: { host: '127.0.0.1', port: 0 },
    identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_SECRET' }, authorityHost: sim.entra.url },
    trust: { caFile: sim.caFile },
    upstream: { regions: { eu: sim.regions.eu!.url } },
    tenants: [
      { id: TENANT_A, name: 'contoso', permissions: ['Alert.Read.All'] },
      { id: TENANT_C, name: 'woodgrove', permissions: ['Alert.Read.All', 'Machine.Isolate'] }
    ],
    clients: [{ name: 'siem', keySha256: keyHash(key), tenants: ['*'], permissions: ['Alert.Read.All'] }],
    // the drain test sends hundreds of calls to one tenant; budgets are tested elsewhere
    limits: { classes: { default: { perMinute: 1_000_000, perHour: 10_000_000 } } },
    ...extra
  })
  return {
    sim,
    dir,
    key,
    config,
    async writeConfig (extra = {}) {
      const file = join(dir, 'gateway.yaml')
      await writeFile(file, stringify(config(extra)))
      return file
    },
    async close () {
      await sim.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Runs the CLI once and collects its output. */
export async function runCli (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stdout, stderr }
}

/**
 * Starts `serve` with a config file; resolves once the process logs its listening addresses. Waits on
 * the output, not on a clock (a busy machine only makes it slower; tap's file timeout bounds it); a
 * process that exits first, or writes an unreadable line, is killed and reported.
 */
export async function startGatewayProcess (file: string, env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--config', file], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const line = await new Promise<string | undefined>((resolve) => {
    const seen = (): void => {
      const found = out.split('\n').find((l) => l.includes('defender-gateway listening'))
      if (found !== undefined && out.slice(out.indexOf(found)).includes('\n')) resolve(found)
    }
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); seen() })
    child.stderr!.on('data', (c: Buffer) => { out += c.toString(); seen() })
    exited.then(() => resolve(undefined), () => resolve(undefined))
  })
  try {
    if (line === undefined) throw new Error(`gateway did not start:\n${out}`)
    const { url, adminUrl } = JSON.parse(line) as { url: string, adminUrl: string }
    return { child, url, adminUrl, output: () => out, exited }
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
}
