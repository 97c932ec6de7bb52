import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { isOurs, WORKER_ENV, type ToPrimary, type ToWorker } from './messages.js'
import { RESTART_POLICY, restartDelay, type RestartPolicy } from './restart-policy.js'

/** A worker as the primary sees it. */
export interface PoolMember {
  readonly worker: Worker
  readonly pid: number | undefined
  /** its private admin listener; set once it listens */
  adminPort: number | undefined
  /** listening and not draining */
  ready: boolean
  /** which config text it started with (see `reload`) */
  textVersion: number
}

export interface PoolOptions {
  readonly size: number
  readonly logger: Logger
  /** the validated config text the cluster started with */
  readonly text: string
  /** a replacement is on its way */
  onRestart (): void
  /** workers keep failing to start: the caller stops the gateway */
  onGiveUp (): void
  readonly policy?: RestartPolicy
}

/** The primary's workers: started, counted, replaced when they die, stopped together. */
export interface WorkerPool {
  /** forks `size` workers */
  start (): void
  /** resolves with the API URL once every worker has listened (the first time) */
  readonly started: Promise<string>
  ready (): PoolMember[]
  /** newly validated config text: workers that listen reload the file (SIGHUP), the next ones apply it when they start */
  reload (text: string): void
  /** SIGTERM to every worker (each drains); resolves once all exited: true if every one exited cleanly */
  stop (): Promise<boolean>
}

export function createWorkerPool (options: PoolOptions): WorkerPool {
  const members = new Map<number, PoolMember>()
  const timers = new Set<NodeJS.Timeout>()
  const policy = options.policy ?? RESTART_POLICY
  let reloaded: string | undefined
  let version = 0
  let streak = 0
  let stopping: { promise: Promise<boolean>, resolve: (clean: boolean) => void, clean: boolean } | undefined
  let announce: (url: string) => void = () => {}
  const started = new Promise<string>((resolve) => { announce = resolve })
  const ready = (): PoolMember[] => [...members.values()].filter((m) => m.ready)

  function fork (): void {
    const worker = cluster.fork({ [WORKER_ENV]: '1' })
    const member: PoolMember = { worker, pid: worker.process.pid, adminPort: undefined, ready: false, textVersion: version }
    members.set(worker.id, member)
    worker.on('message', (message: unknown) => onMessage(member, message))
    worker.on('error', (err: Error) => options.logger.error({ err, worker: worker.id }, 'worker channel error'))
    worker.on('exit', (code: number | null, signal: string | null) => onExit(member, code, signal))
  }

  function onMessage (member: PoolMember, message: unknown): void {
    if (!isOurs<ToPrimary>(message)) return
    if (message.dgw === 'config?') {
      member.textVersion = version
      const reply: ToWorker = { dgw: 'config', text: options.text, reloaded, workers: options.size }
      member.worker.send(reply)
    } else if (message.dgw === 'listening') {
      member.adminPort = message.adminPort
      member.ready = stopping === undefined
      streak = 0
      // It fetched its config before the last reload: bring it up to date.
      if (member.textVersion !== version) member.worker.process.kill('SIGHUP')
      if (ready().length === options.size) announce(message.url)
    } else if (message.dgw === 'draining') {
      member.ready = false
    }
  }

  function onExit (member: PoolMember, code: number | null, signal: string | null): void {
    members.delete(member.worker.id)
    const clean = code === 0 || signal === 'SIGTERM' || signal === 'SIGINT'
    if (stopping !== undefined) {
      stopping.clean &&= clean
      if (members.size === 0) stopping.resolve(stopping.clean)
      return
    }
    streak++
    const delay = restartDelay(streak, policy)
    const about = { worker: member.worker.id, pid: member.pid, code, signal, streak }
    if (delay === undefined) {
      options.logger.fatal(about, `workers keep exiting before they listen (${streak} in a row): giving up`)
      options.onGiveUp()
      return
    }
    options.logger.error({ ...about, restartInMs: delay }, 'worker exited unexpectedly: starting a replacement')
    options.onRestart()
    const timer = setTimeout(() => {
      timers.delete(timer)
      fork()
    }, delay)
    timers.add(timer)
  }

  return {
    start () {
      for (let i = 0; i < options.size; i++) fork()
    },
    started,
    ready,
    reload (next) {
      reloaded = next
      version++
      for (const member of members.values()) {
        // One that has not listened yet has no SIGHUP handler; it is brought up to date when it listens.
        if (member.adminPort === undefined) continue
        member.textVersion = version
        member.worker.process.kill('SIGHUP')
      }
    },
    async stop () {
      if (stopping !== undefined) return await stopping.promise
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      let settle: (clean: boolean) => void = () => {}
      const promise = new Promise<boolean>((resolve) => { settle = resolve })
      stopping = { promise, resolve: settle, clean: true }
      // process.kill, not worker.kill: that one disconnects first, which closes the worker's listeners
      // at once instead of letting it drain.
      for (const member of members.values()) {
        member.ready = false
        member.worker.process.kill('SIGTERM')
      }
      if (members.size === 0) settle(true)
      return await promise
    }
  }
}
