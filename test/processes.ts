import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'

/**
 * Every child process a test starts, so that each is killed on every path: its own teardown, a start
 * that timed out or failed, and the test process ending (even on tap's timeout signal). A gateway
 * cluster runs in its own process group and is killed as a group: killing only its primary (SIGKILL
 * gives it no chance to stop its workers) would leave the workers running.
 */
const running = new Set<ChildProcess>()
const groups = new WeakSet<ChildProcess>()

/** Sends a signal to the child, or to its whole process group when it leads one; never throws. */
export function signalTree (child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(groups.has(child) ? -child.pid : child.pid, signal)
  } catch {
    // already gone
  }
}

/** Spawns and tracks a child; `group: true` puts it (and everything it forks) in its own process group. */
export function spawnTracked (command: string, args: readonly string[], options: SpawnOptions & { group?: boolean } = {}): ChildProcess {
  const { group = false, ...rest } = options
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...rest, detached: group })
  running.add(child)
  if (group) groups.add(child)
  // A group stays listed after its leader exits: workers may outlive it (tests check that they do
  // not), and whatever is left is killed by killTracked or when the test process ends.
  if (!group) child.once('exit', () => { running.delete(child) })
  return child
}

/**
 * Pids of the live (not zombie) processes in process group `pgid`, from /proc (Linux). A killed worker
 * whose primary died first stays a zombie until init reaps it: it runs nothing, so it does not count.
 */
export function groupMembers (pgid: number): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8') } catch { continue }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry))
  }
  return pids
}

/** Kills the child (its whole group for a group leader) and waits until it and its group have exited. */
export async function killTracked (child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit')
    signalTree(child, signal)
    await exited
  }
  if (groups.has(child) && child.pid !== undefined) {
    // SIGKILL is delivered asynchronously: wait (bounded) until nothing of the group runs any more.
    for (let i = 0; i < 500 && groupMembers(child.pid).length > 0; i++) {
      signalTree(child, 'SIGKILL')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  running.delete(child)
}

function killAll (): void {
  for (const child of running) signalTree(child, 'SIGKILL')
  running.clear()
}

process.on('exit', killAll)
// SIGALRM: tap's per-file timeout.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGALRM'] as const) {
  process.on(signal, function killChildrenThenDie () {
    killAll()
    // Only listener left: the default action (terminate) would have been taken without us, so take it.
    process.removeListener(signal, killChildrenThenDie)
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  })
}

/**
 * Resolves once `test(text)` holds for the text a child wrote so far, re-checked on every chunk (an
 * event, not a poll). Rejects if the child exits first or after `timeoutMs`: a safety net so a hung
 * start fails with its output instead of tap's file timeout, never a measured threshold.
 */
export async function waitForOutput (child: ChildProcess, text: () => string, test: (text: string) => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  if (test(text())) return
  await new Promise<void>((resolve, reject) => {
    const check = (): void => { if (test(text())) finish() }
    const exited = (): void => { finish(new Error(`process exited before ${what}:\n${text().slice(-4000)}`)) }
    const timer = setTimeout(() => { finish(new Error(`no ${what} within ${timeoutMs} ms:\n${text().slice(-4000)}`)) }, timeoutMs)
    function finish (err?: Error): void {
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.stderr?.off('data', check)
      child.off('exit', exited)
      if (err === undefined) resolve()
      else reject(err)
    }
    // Listeners added after the collector's, so text() already holds the chunk when check runs.
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.once('exit', exited)
    if (child.exitCode !== null || child.signalCode !== null) exited()
  })
}
