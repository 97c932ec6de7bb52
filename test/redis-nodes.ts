import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { killTracked, spawnTracked, waitForOutput } from './processes.js'

/** One redis-server (data node or sentinel) a test started on 127.0.0.1, tracked so it is killed on every path. */
export interface RedisNode {
  readonly port: number
  readonly address: string
  /** SIGKILL, as a crash would; resolves once it has exited */
  kill (): Promise<void>
  alive (): boolean
}

/** A port nobody listens on right now (it can still be taken before we bind it: see launchNode). */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

async function spawnOn (port: number, args: (port: number) => string[], ready: string): Promise<ChildProcess> {
  const child = spawnTracked('redis-server', args(port))
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8') })
  child.once('error', (err) => { output += `cannot start redis-server (is it installed? .ci/run installs it): ${err.message}` })
  try {
    await waitForOutput(child, () => output, (text) => text.includes(ready), `redis-server on ${port}`, 30_000)
  } catch (err) {
    await killTracked(child)
    throw err
  }
  return child
}

/**
 * Starts redis-server with `args(port)` on a free port and resolves once it logged `ready`. A port
 * taken between the probe and the bind (a busy shared machine) is retried on another one.
 */
export async function launchNode (args: (port: number) => string[], ready = 'Ready to accept connections'): Promise<RedisNode> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      const child = await spawnOn(port, args, ready)
      return {
        port,
        address: `127.0.0.1:${port}`,
        alive: () => child.exitCode === null && child.signalCode === null,
        async kill () {
          child.kill('SIGCONT')
          await killTracked(child)
        }
      }
    } catch (err) {
      if (attempt >= 5 || !String(err).includes('in use')) throw err
    }
  }
}

/** Arguments every test node shares: loopback only, no persistence, files in `dir`. */
export function baseArgs (port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
}
