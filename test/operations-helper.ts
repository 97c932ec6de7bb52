import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { keyHash } from '../src/callers/authenticate.js'
import { childEnv } from './child-env.js'
import { killTracked, spawnTracked, waitForOutput } from './processes.js'
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
  /** resolves once the output satisfies `test` (checked on every chunk); rejects if the process exits first */
  waitFor (test: (output: string) => boolean, what: string): Promise<void>
  /** kills the whole process group (primary and workers) and waits for the primary to exit */
  stop (signal?: NodeJS.Signals): Promise<void>
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

/** Runs the CLI once and collects its output; the process (group) is killed if the test ends first. */
export async function runCli (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', 'src/server.ts', ...args], { env: childEnv(env), group: true })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  await killTracked(child)
  return { code, stdout, stderr }
}

/**
 * Starts `serve` with a config file in its own process group; resolves once the process logs its
 * listening addresses. Every path that does not hand the process to the caller kills the group.
 */
export async function startGatewayProcess (file: string, env: Record<string, string>, options: { startTimeoutMs?: number } = {}): Promise<GatewayProcess> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', 'src/server.ts', '--config', file], { env: childEnv(env), group: true })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const listening = (text: string): string | undefined => text.split('\n').find((l) => l.includes('defender-gateway listening'))
  try {
    await waitForOutput(child, () => out, (text) => listening(text) !== undefined, 'gateway start', options.startTimeoutMs)
    const { url, adminUrl } = JSON.parse(listening(out) as string) as { url: string, adminUrl: string }
    return {
      child,
      url,
      adminUrl,
      output: () => out,
      exited,
      waitFor: async (test, what) => { await waitForOutput(child, () => out, test, what) },
      stop: async (signal = 'SIGKILL') => { await killTracked(child, signal) }
    }
  } catch (err) {
    await killTracked(child)
    throw new Error(`${(err as Error).message}\n(killed its process group, pgid ${String(child.pid)})`)
  }
}
