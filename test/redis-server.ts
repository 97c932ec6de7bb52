import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killTracked, spawnTracked } from './processes.js'
import { freePort } from './redis-nodes.js'

/** A throwaway redis-server of a test's own: loopback, free port, no persistence, temp dir. */
export interface TestRedis {
  readonly port: number
  readonly url: string
  /** SIGKILL, as a crash would; the port stays ours for restart() */
  kill (): Promise<void>
  /** starts again on the same port, empty */
  restart (): Promise<void>
  /** SIGSTOP: a hung Redis (process alive, socket open, no answers); `stop()` and `kill()` resume it first */
  pause (): void
  /** SIGCONT */
  resume (): void
  stop (): Promise<void>
}

async function launch (port: number, dir: string): Promise<ChildProcess> {
  const child = spawnTracked('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir])
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (output.includes('Ready to accept connections')) resolve()
    })
    child.once('error', (err) => reject(new Error(`cannot start redis-server (is it installed? .ci/run installs it): ${err.message}`)))
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)}: ${output.slice(-500)}`)))
  })
  try {
    await ready
  } catch (err) {
    await killTracked(child)
    throw err
  }
  return child
}

/** Starts redis-server; `stop()` it in t.teardown. */
export async function startRedis (): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'dgw-redis-'))
  let port = await freePort()
  let child: ChildProcess | undefined
  // The free port can be taken by another process before redis binds it (a shared, busy machine).
  for (let attempt = 1; child === undefined; attempt++) {
    try {
      child = await launch(port, dir)
    } catch (err) {
      if (attempt >= 5 || !String(err).includes('in use')) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
      port = await freePort()
    }
  }
  async function kill (): Promise<void> {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    running.kill('SIGCONT')
    await killTracked(running)
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    pause () { child?.kill('SIGSTOP') },
    resume () { child?.kill('SIGCONT') },
    async restart () {
      await kill()
      child = await launch(port, dir)
    },
    async stop () {
      await kill()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
