import { once } from 'node:events'
import { childEnv } from './child-env.js'
import { killTracked, spawnTracked } from './processes.js'

/** How a command run to its end finished and what it printed. */
export interface Finished { code: number | null, out: string, err: string }

/**
 * Runs a command to its end as a user's shell would, in its own process group (killed on every path),
 * without the test's own GATEWAY_* variables: each case says what it sets with `env`.
 */
export async function runToEnd (command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Finished> {
  const base = Object.fromEntries(Object.entries(childEnv()).filter(([k]) => !k.startsWith('GATEWAY_')))
  const child = spawnTracked(command, args, { env: { ...base, ...env }, group: true })
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { err += c.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  await killTracked(child)
  return { code, out, err }
}

/** `bash -c LINE`: a line exactly as a README or the demo prints it. */
export const bash = async (line: string): Promise<Finished> => await runToEnd('bash', ['-c', line])
