import { Transform, type TransformCallback } from 'node:stream'

/** How far the gateway inflates a compressed answer it has to read (upstream.maxInflated*). */
export interface InflateLimits {
  readonly maxBytes: number
  readonly maxRatio: number
}

/** Below this many inflated bytes the ratio is not judged: tiny answers compress unevenly. */
export const RATIO_FLOOR = 256 * 1024
/** A compressed answer is held back from the caller until this much was inflated (or it ended). */
export const COMMIT_AFTER = 1024 * 1024

/** A compressed answer that inflated beyond the limits: refused, never passed on. */
export class InflateRefused extends Error {
  constructor (readonly inflated: number, readonly compressed: number) {
    super(`Defender's compressed answer inflated to more than ${inflated} bytes from ${compressed}`)
  }
}

/**
 * Counts a compressed answer's bytes on both sides of the decoder and fails the stream the moment the
 * inflated size passes `maxBytes`, or `maxRatio` times the compressed bytes read so far: a decompression
 * bomb costs the gateway at most that much work. Emits `commit` once COMMIT_AFTER bytes passed (or at
 * the end), so the caller's answer can wait until then and a refusal before it is still a clean 502.
 */
export class InflateGuard extends Transform {
  #compressed = 0
  #inflated = 0
  #committed = false
  /** the stage to put in front of the decoder: counts the compressed bytes */
  readonly counter: Transform

  constructor (private readonly limits: InflateLimits, private readonly done: (inflated: number) => void) {
    super()
    const guard = this
    this.counter = new Transform({
      transform (chunk: Buffer, _enc, next) {
        guard.#compressed += chunk.length
        next(null, chunk)
      }
    })
  }

  get committed (): boolean { return this.#committed }

  override _transform (chunk: Buffer, _enc: BufferEncoding, next: TransformCallback): void {
    const inflated = this.#inflated + chunk.length
    const { maxBytes, maxRatio } = this.limits
    if (inflated > maxBytes || (inflated > RATIO_FLOOR && inflated > maxRatio * this.#compressed)) {
      next(new InflateRefused(this.#inflated, this.#compressed))
      return
    }
    this.#inflated = inflated
    next(null, chunk)
    if (inflated >= COMMIT_AFTER) this.#commit()
  }

  override _flush (next: TransformCallback): void {
    next()
    this.#commit()
  }

  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    this.done(this.#inflated)
    callback(err)
  }

  #commit (): void {
    if (this.#committed) return
    this.#committed = true
    this.emit('commit')
  }
}
