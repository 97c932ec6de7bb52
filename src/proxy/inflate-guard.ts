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
 * Fails the stream the moment a compressed answer's inflated size passes `maxBytes`, or `maxRatio` times
 * the compressed bytes its decoder has consumed so far: a decompression bomb costs the gateway at most
 * that much work. The compressed side is read from the decoder's own count (zlib's `bytesWritten`), not
 * from a counting stage in front of it, which cost a stream hop per chunk.
 */
export class InflateGuard extends Transform {
  #inflated = 0

  constructor (private readonly limits: InflateLimits, private readonly decoder: { readonly bytesWritten: number }, private readonly done: (inflated: number) => void) {
    super()
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, next: TransformCallback): void {
    const inflated = this.#inflated + chunk.length
    const { maxBytes, maxRatio } = this.limits
    if (inflated > maxBytes || (inflated > RATIO_FLOOR && inflated > maxRatio * this.decoder.bytesWritten)) {
      next(new InflateRefused(this.#inflated, this.decoder.bytesWritten))
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
