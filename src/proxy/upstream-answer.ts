import { Readable } from 'node:stream'
import { errors, type Dispatcher } from 'undici'

/** What happens when a call gets its headers, or ends without them; one object shared by every call. */
export interface AnswerEvents<T> {
  /** Defender's final headers: the body is taken with `collect()` or `stream()` in this same tick, or dropped */
  answered (target: T, answer: UpstreamAnswer<T>): void
  /** the call ended before any final headers (connection failed, timed out, aborted) */
  failed (target: T, error: Error): void
  /** `answered` threw (a bug of ours, not Defender's failure): the call was aborted, the request is to end with an error */
  broken (target: T, error: Error): void
}

/** Defender's answer headers as undici parses them (lower-case names; repeated ones as arrays) */
export type AnswerHeaders = Record<string, string | string[] | undefined>

/** `collect`'s end: the whole body, or why there is none. */
export type Collected = (...result: [error: Error, body: undefined] | [error: null, body: Buffer]) => void

/** More body than `collect` takes: it only takes answers whose declared length is within its limit. */
export class AnswerTooLong extends Error {
  constructor () {
    super('upstream body longer than its content-length')
  }
}

/** undici's own stream's buffer (64 KiB, as Node's file streams), so backpressure works as it did */
const STREAM_BUFFER = 64 * 1024

/**
 * One call to Defender, as undici's dispatch handler. undici's `request()` costs, per call, an
 * AbortController and its listener, an AsyncResource and a body stream with our listeners on it; most
 * answers are small, with a length, and read whole, so this handler keeps their chunks itself and makes
 * a stream only for a consumer that pipes the body. Where it matters it does what `request()` does:
 * an abort before undici starts the request is applied when it does, 1xx answers are skipped, errors
 * after the headers go to the body's consumer, and a stream destroyed before its end aborts the call
 * (undici then closes the connection instead of leaving it half-read in the pool).
 */
export class UpstreamAnswer<T = unknown> implements Dispatcher.DispatchHandler {
  /** 0 until Defender's final headers */
  statusCode = 0
  headers: AnswerHeaders = {}
  readonly #target: T
  readonly #events: AnswerEvents<T>
  #controller: Dispatcher.DispatchController | undefined
  /** an abort that came before undici started the request (it may wait in the pool's queue) */
  #abortedEarly: Error | undefined
  #body: AnswerBody | undefined
  #chunks: Buffer[] | undefined
  #size = 0
  #limit = 0
  #collected: Collected | undefined

  constructor (target: T, events: AnswerEvents<T>) {
    this.#target = target
    this.#events = events
  }

  /** The small-answer path: the body kept here, whole at its end; more than `limit` bytes aborts the call. */
  collect (limit: number, done: Collected): void {
    this.#chunks = []
    this.#limit = limit
    this.#collected = done
  }

  /** The body as a stream with backpressure (made on demand: most answers never need one). */
  stream (): Readable {
    // Taken in the headers' tick, so undici has started the request and handed over its controller.
    this.#body ??= new AnswerBody(this.#controller!)
    return this.#body
  }

  /** Ends the call before or after its headers; does nothing once it ended. */
  abort (reason: Error = new errors.RequestAbortedError()): void {
    if (this.#controller === undefined) this.#abortedEarly ??= reason
    else this.#controller.abort(reason)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#abortedEarly !== undefined) controller.abort(this.#abortedEarly)
  }

  onResponseStart (controller: Dispatcher.DispatchController, statusCode: number, headers: AnswerHeaders): void {
    // 102 Processing, 103 Early Hints: the answer is still to come.
    if (statusCode < 200) return
    this.statusCode = statusCode
    this.headers = headers
    try {
      this.#events.answered(this.#target, this)
    } catch (err) {
      // A bug of ours, not Defender's failure: the call ends, and the error goes to the events out of
      // undici's callback (undici would take it for an upstream error). Never thrown into the process:
      // bytes from Defender must not be able to end it.
      queueMicrotask(() => { this.#events.broken(this.#target, err as Error) })
      controller.abort(err as Error)
    }
  }

  onResponseData (controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#body !== undefined) {
      if (!this.#body.push(chunk)) controller.pause()
    } else if (this.#chunks !== undefined) {
      this.#size += chunk.length
      if (this.#size > this.#limit) controller.abort(new AnswerTooLong())
      else this.#chunks.push(chunk)
    }
    // Otherwise nobody took the body: it is dropped as it arrives, and the connection goes back to the
    // pool at its end.
  }

  onResponseEnd (): void {
    if (this.#body !== undefined) {
      this.#body.push(null)
      return
    }
    const done = this.#collected
    if (done === undefined) return
    const chunks = this.#chunks!
    const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size)
    // Out of undici's parser callback, as its stream's 'end' was: what the consumer does (send the
    // answer, or throw) is not undici's to see.
    queueMicrotask(() => { done(null, whole) })
  }

  onResponseError (_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    // Out of undici's callbacks, as request() reports them: a failover sends the request again from here.
    if (this.statusCode === 0) {
      queueMicrotask(() => { this.#events.failed(this.#target, error) })
      return
    }
    const body = this.#body
    const done = this.#collected
    // A stream nobody listens to yet must not turn the error into an uncaught one (request() does the same).
    if (body !== undefined) queueMicrotask(() => { body.on('error', ignore).destroy(error) })
    else if (done !== undefined) queueMicrotask(() => { done(error, undefined) })
  }
}

function ignore (): void {}

/** The body for consumers that pipe it: the chunks undici gives, paused while the consumer is behind. */
class AnswerBody extends Readable {
  readonly #controller: Dispatcher.DispatchController

  constructor (controller: Dispatcher.DispatchController) {
    super({ highWaterMark: STREAM_BUFFER })
    this.#controller = controller
  }

  override _read (): void {
    this.#controller.resume()
  }

  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    // Destroyed before its end (the caller went away, a stage failed): the rest is not read, so the call
    // is aborted and undici closes the connection.
    if (!this.readableEnded) this.#controller.abort(err ?? new errors.RequestAbortedError())
    callback(err)
  }
}
