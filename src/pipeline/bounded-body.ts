import type { Readable } from 'node:stream'

/** The errors a bounded read ends with, in the shape of the listener that reads (Defender's or Entra's). */
export interface BodyRefusals {
  tooLarge (): Error
  idle (): Error
  brokeOff (): Error
}

export interface BoundedBody {
  readonly limit: number
  readonly idleTimeoutMs: number
  readonly refusals: BodyRefusals
}

/**
 * Reads a request body whole, for every listener that must not let a caller hold it open: at most
 * `limit` bytes (refused as soon as the count passes it), and cut off when no byte arrives for
 * `idleTimeoutMs`. `done` is called once. Returns `abort`, with which a deadline ends a read that is
 * still going.
 */
export function readBoundedBody (payload: Readable, options: BoundedBody, done: (err: Error | null, body?: Buffer) => void): (err: Error) => void {
  const chunks: Buffer[] = []
  let size = 0
  let settled = false
  const finish = (err: Error | null): void => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    if (err === null) {
      done(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
      return
    }
    // Stop reading; the error answer closes the connection.
    payload.pause()
    done(err)
  }
  const timer = setTimeout(() => { finish(options.refusals.idle()) }, options.idleTimeoutMs)
  payload.on('data', (chunk: Buffer) => {
    if (settled) return
    size += chunk.length
    if (size > options.limit) {
      finish(options.refusals.tooLarge())
      return
    }
    chunks.push(chunk)
    timer.refresh()
  })
  payload.once('end', () => finish(null))
  payload.once('error', () => finish(options.refusals.brokeOff()))
  payload.once('close', () => finish(options.refusals.brokeOff()))
  return finish
}
