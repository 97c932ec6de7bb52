import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'

/** One reading of a process (or a group of processes) from /proc, for per-run CPU and memory deltas. */
export interface ProcSample {
  /** user + system CPU time, microseconds */
  readonly cpuMicros: number
  /** resident set size now, KiB */
  readonly rssKb: number
  /** peak resident set size since start (VmHWM), KiB */
  readonly hwmKb: number
}

const ZERO: ProcSample = { cpuMicros: 0, rssKb: 0, hwmKb: 0 }

let clockTicks: number | undefined

/** Clock ticks per second used by /proc/<pid>/stat (getconf CLK_TCK; 100 on every Linux we know). */
function ticksPerSecond (): number {
  if (clockTicks !== undefined) return clockTicks
  try {
    clockTicks = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10)
  } catch {
    clockTicks = 100
  }
  if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100
  return clockTicks
}

/** True when /proc readings are possible here (Linux). */
export function procAvailable (): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8')
    return true
  } catch {
    return false
  }
}

function statusKb (status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)
  return m === null ? 0 : Number.parseInt(m[1]!, 10)
}

/** Reads utime+stime and VmRSS/VmHWM of one process; zeros when it cannot (gone, not Linux). */
export function readProc (pid: number): ProcSample {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // fields after the command name, which is in parentheses and may contain spaces
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(rest[11]) + Number(rest[12]) // utime, stime (fields 14 and 15)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return {
      cpuMicros: Math.round(ticks * 1e6 / ticksPerSecond()),
      rssKb: statusKb(status, 'VmRSS'),
      hwmKb: statusKb(status, 'VmHWM')
    }
  } catch {
    return ZERO
  }
}

/** Sums readings over several processes (nginx master + workers). */
export function readProcs (pids: readonly number[]): ProcSample {
  return pids.map(readProc).reduce((a, b) => ({
    cpuMicros: a.cpuMicros + b.cpuMicros,
    rssKb: a.rssKb + b.rssKb,
    hwmKb: a.hwmKb + b.hwmKb
  }), ZERO)
}

/** Direct children of a process, from /proc/<pid>/task/<tid>/children. */
export function childPids (pid: number): number[] {
  const out: number[] = []
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
      if (text !== '') out.push(...text.split(/\s+/).map(Number))
    }
  } catch {
    return out
  }
  return out
}
