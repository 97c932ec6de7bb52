import { Transform, type TransformCallback } from 'node:stream'

/** How far the gateway inflates a compressed answer it has to read (upstream.maxInflated*). */
export interface InflateLimits {
  readonly maxBytes: number
  readonly maxRatio: number
}

/** Below this many inflated bytes the ratio is not judged: tiny answers compress unevenly. */
export const RATIO_FLOOR = 256 * 1024

/** A compressed answer that inflated beyond the limits: refused, never passed on. */
export class InflateRefused extends Error {
  constructor (readonly inflated: number, readonly compressed: number) {
    super(`Defender's compressed answer inflated to more than ${inflated} bytes from ${compressed}`)
  }
}

/**
 * Counts a compressed answer's bytes on both sides of the decoder and fails the stream the moment the
 * inflated size passes `maxBytes`, or `maxRatio` times the compressed bytes read so far: a decompression
 * bomb costs the gateway at most that much work.
 */
export class InflateGuard extends Transform {
  #compressed = 0
  #inflated = 0
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

  override _transform (chunk: Buffer, _enc: BufferEncoding, next: TransformCallback): void {
    const inflated = this.#inflated + chunk.length
    const { maxBytes, maxRatio } = this.limits
    if (inflated > maxBytes || (inflated > RATIO_FLOOR && inflated > maxRatio * this.#compressed)) {
      next(new InflateRefused(this.#inflated, this.#compressed))
      return
    }
    this.#inflated = inflated
    next(null, chunk)
  }

  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    this.done(this.#inflated)
    callback(err)
  }
}
