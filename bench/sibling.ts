import { fileURLToPath } from 'node:url'

/**
 * How to start another bench script as a process. `npm run bench` runs the compiled JS (no tsx loader in
 * the measured processes: it costs the gateway ~40 MB of RSS and CPU per module load); `npx tsx bench/...`
 * runs the sources. Either way a sibling is started the same way its parent runs.
 */
export function sibling (script: string, from: string): { file: string, execArgv: string[] } {
  const compiled = from.endsWith('.js')
  const file = fileURLToPath(new URL(compiled ? script.replace(/\.ts$/, '.js') : script, from))
  return { file, execArgv: compiled ? [] : ['--import', 'tsx'] }
}
