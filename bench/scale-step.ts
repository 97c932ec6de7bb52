import { fork } from 'node:child_process'
import type { BenchOptions } from './options.js'
import { sibling } from './sibling.js'
import type { TenantScaleResult } from './tenant-scale.js'

/**
 * Runs bench/tenant-scale.ts for `npm run bench` in a process of its own (the RSS it reports must be its
 * own, not the load generator's) and returns what it measured.
 */
export async function runTenantScale (opts: BenchOptions): Promise<TenantScaleResult> {
  const { file, execArgv } = sibling('./tenant-scale.ts', import.meta.url)
  // run.ts pinned itself (and so its children) to one CPU; this part and its Entra ID get every CPU back.
  const unpin = opts.cpus.taskset === undefined ? {} : { execPath: opts.cpus.taskset, execArgv: ['-c', `0-${opts.cpuCount - 1}`, process.execPath, ...execArgv] }
  const child = fork(file, [], {
    execArgv,
    ...unpin,
    env: { ...process.env, TENANTS: String(opts.tenantScale) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  return await new Promise((resolve, reject) => {
    let result: TenantScaleResult | undefined
    child.once('message', (message) => { result = message as TenantScaleResult })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (result !== undefined) resolve(result)
      else reject(new Error(`bench/tenant-scale.ts exited (${signal ?? String(code)}) before reporting`))
    })
  })
}
