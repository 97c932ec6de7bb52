import { Transform, type TransformCallback } from 'node:stream'

/** bodies up to this size are parsed for the audit line */
export const KEEP = 16 * 1024

/** What Defender said about a write, for the audit line: its correlation `target` and the entity `id`. */
export interface WriteOutcome { target?: string, id?: string }

/**
 * Passes a (decompressed) JSON body through unchanged while keeping its first 16 KiB, then reads
 * Defender's `error.target` or the created entity's `id` from it. Bounded: bigger bodies are not parsed.
 */
export class AuditTap extends Transform {
  readonly #kept: Buffer[] = []
  #size = 0
  readonly #report: (outcome: WriteOutcome) => void

  constructor (report: (outcome: WriteOutcome) => void) {
    super()
    this.#report = report
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.#size <= KEEP) this.#kept.push(chunk)
    this.#size += chunk.length
    done(null, chunk)
  }

  override _flush (done: TransformCallback): void {
    if (this.#size <= KEEP) this.#report(readOutcome(Buffer.concat(this.#kept).toString('utf8')))
    done()
  }
}

/** Defender's `error.target` or the created entity's `id` from a JSON body; empty when it is not JSON. */
export function readOutcome (text: string): WriteOutcome {
  try {
    const body = JSON.parse(text) as { id?: unknown, error?: { target?: unknown } }
    const target = body.error?.target
    return {
      target: typeof target === 'string' ? target : undefined,
      id: typeof body.id === 'string' || typeof body.id === 'number' ? String(body.id) : undefined
    }
  } catch {
    return {}
  }
}
