import { spawn, type ChildProcess } from 'node:child_process'
import { relative } from 'node:path'
import { pinned, type CpuLayout } from './options.js'
import { sibling } from './sibling.js'

/** A bench child process (upstream or gateway) spoken to over the IPC channel. */
export interface Worker<Ready> {
  readonly pid: number
  readonly ready: Ready
  send (message: unknown): void
  /** sends `{type, ...payload}` and waits (bounded) for the child's `{type: '<type>-reply', ...}` */
  query<T> (type: string, payload?: Record<string, unknown>, timeoutMs?: number): Promise<T>
  /** asks it to close, then kills it if it has not exited within a few seconds */
  stop (): Promise<void>
}

const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5_000

/** A worker script to run: its file and the node flags it needs (tsx for sources). */
export interface WorkerScript {
  readonly file: string
  readonly execArgv: readonly string[]
}

/** Starts `bench/<script>` as `node [nodeArgs] <script>` (compiled, or through tsx; pinned when asked), sends `init`, waits for `{type:'ready'}`. */
export async function startWorker<Ready> (script: string, init: unknown, cpus: CpuLayout, cpu: number | undefined,
  nodeArgs: readonly string[] = []): Promise<Worker<Ready>> {
  return await startWorkerScript(sibling(script, import.meta.url), init, cpus, cpu, nodeArgs)
}

/** As startWorker, for a script anywhere: the baseline's compiled gateway process (bench/baseline.ts). */
export async function startWorkerScript<Ready> ({ file, execArgv }: WorkerScript, init: unknown, cpus: CpuLayout, cpu: number | undefined,
  nodeArgs: readonly string[] = []): Promise<Worker<Ready>> {
  const [command, args] = pinned(cpus, cpu, process.execPath, [...nodeArgs, ...execArgv, file])
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pid = child.pid
  const name = relative(process.cwd(), file)
  if (pid === undefined) throw new Error(`could not start ${name}`)
  try {
    const ready = await waitReady<Ready>(child, name)
    return {
      pid,
      ready,
      send (message) { child.send(message as object) },
      query: async <T>(type: string, payload?: Record<string, unknown>, timeoutMs?: number) => await queryChild<T>(child, type, payload, timeoutMs),
      stop: async () => await stopChild(child)
    }
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }

  async function waitReady<R> (c: ChildProcess, name: string): Promise<R> {
    return await new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not get ready in ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      c.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited early (code ${String(code)})`)) })
      c.on('message', (m: { type?: string, error?: string }) => {
        if (m.type === 'ready') { clearTimeout(timer); resolve(m as R) }
        if (m.type === 'failed') { clearTimeout(timer); reject(new Error(`${name}: ${m.error ?? 'failed'}`)) }
      })
      c.send(init as object)
    })
  }
}

async function queryChild<T> (child: ChildProcess, type: string, payload: Record<string, unknown> = {}, timeoutMs = 5000): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const onMessage = (m: { type?: string }): void => {
      if (m.type !== `${type}-reply`) return
      clearTimeout(timer)
      child.off('message', onMessage)
      resolve(m as T)
    }
    const timer = setTimeout(() => { child.off('message', onMessage); reject(new Error(`no ${type} reply`)) }, timeoutMs)
    child.on('message', onMessage)
    child.send({ ...payload, type })
  })
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  if (child.connected) child.send({ type: 'close' })
  else child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

/** Child side: waits for the parent's init message. Exits when the parent goes away. */
export async function receiveInit<T> (): Promise<T> {
  if (process.send === undefined) throw new Error('run me from bench/run.ts (needs an IPC channel)')
  process.once('disconnect', () => process.exit(0))
  return await new Promise<T>((resolve) => process.once('message', (m) => resolve(m as T)))
}

/** Child side: reports ready to the parent, calls `close` on its close message and answers its queries. */
export function announce (ready: Record<string, unknown>, close: () => Promise<void>,
  answers: Record<string, (message: Record<string, unknown>) => Record<string, unknown>> = {}): void {
  process.send?.({ type: 'ready', ...ready })
  process.on('message', (m: { type?: string } & Record<string, unknown>) => {
    if (m.type === 'close') close().then(() => process.exit(0), () => process.exit(1))
    const answer = m.type === undefined ? undefined : answers[m.type]
    if (answer !== undefined) process.send?.({ ...answer(m), type: `${m.type ?? ''}-reply` })
  })
}
