import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { createGunzip } from 'node:zlib'

export { bigAnswer, type BigAnswer } from './sim/big-answer.js'

// Shared by the big-answer tests (issue 16): answers of many MB that compress about 4:3, as an export of
// ids and hashes does (built in test/sim/big-answer.ts, which the bench shares), a caller that reads a
// little slower than they arrive, and the gateway's RSS.

const MB = 1024 * 1024

/** VmRSS (or another /proc status field) of a process, in MB; 0 once it is gone. */
export function rssMb (pid: number, field = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1]) / 1024
  } catch {
    return 0
  }
}

export interface ReadOptions {
  readonly headers: Record<string, string>
  /** the gateway process, whose RSS is sampled after every MB read */
  readonly pid: number
  /** after this many bytes, stop reading for `pauseMs`, then go on */
  readonly pauseAt?: number
  readonly pauseMs?: number
  /** give up (a failed read) after this long: set from a measured ratio, never a fixed threshold */
  readonly giveUpMs?: number
  /** called once the answer's headers arrived */
  readonly started?: () => void
}

export interface ReadResult {
  readonly status: number
  readonly complete: boolean
  /** bytes on the wire (compressed) */
  readonly wireBytes: number
  readonly sha256: string
  readonly seconds: number
  readonly peakRssMb: number
}

/** Reads a gzip answer at most 64 KiB per timer tick (a caller a little slower than the upstream), inflating and hashing it. */
export async function readPaced (url: string, options: ReadOptions): Promise<ReadResult> {
  const start = performance.now()
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers: { ...options.headers, 'accept-encoding': 'gzip' }, agent: false }, (res) => {
      options.started?.()
      const hash = createHash('sha256')
      const inflate = createGunzip()
      inflate.on('data', (c: Buffer) => hash.update(c))
      let wire = 0
      let peak = 0
      let sampledAt = 0
      let paused = false
      let timer: NodeJS.Timeout | undefined
      const finish = (complete: boolean): void => {
        clearTimeout(timer)
        const seconds = (performance.now() - start) / 1000
        peak = Math.max(peak, rssMb(options.pid))
        if (!complete) {
          req.destroy()
          resolve({ status: res.statusCode ?? 0, complete, wireBytes: wire, sha256: '', seconds, peakRssMb: peak })
          return
        }
        inflate.end(() => { resolve({ status: res.statusCode ?? 0, complete, wireBytes: wire, sha256: hash.digest('hex'), seconds, peakRssMb: peak }) })
      }
      const tick = (): void => {
        if (options.giveUpMs !== undefined && performance.now() - start > options.giveUpMs) { finish(false); return }
        wire += take(res, inflate)
        if (wire - sampledAt >= MB) { sampledAt = wire; peak = Math.max(peak, rssMb(options.pid)) }
        if (!paused && options.pauseAt !== undefined && wire >= options.pauseAt) {
          paused = true
          timer = setTimeout(tick, options.pauseMs ?? 0)
          return
        }
        if (!res.readableEnded) timer = setTimeout(tick, 1)
      }
      res.pause()
      res.once('end', () => { finish(true) })
      res.once('error', () => { finish(false) })
      tick()
    })
    req.on('error', reject)
    req.end()
  })
}

/** Takes up to 64 KiB of what the socket has buffered into the inflater. */
function take (res: IncomingMessage, inflate: NodeJS.WritableStream): number {
  let taken = 0
  let chunk: Buffer | null
  while (taken < 64 * 1024 && (chunk = res.read() as Buffer | null) !== null) {
    taken += chunk.length
    inflate.write(chunk)
  }
  return taken
}
