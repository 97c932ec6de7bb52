import type { Socket } from 'node:net'
import { buildConnector } from 'undici'

/** The most one read takes from an upstream socket's buffer (four TLS records). */
export const MAX_READ_BYTES = 64 * 1024

/**
 * undici's connector, with every socket it opens made to hand out at most `maxRead` bytes per read.
 *
 * Why: undici 7's HTTP/1.1 parser, when a slow caller makes it pause and then resume, calls `socket.read()`
 * with no size: Node then joins the socket's whole buffer into one Buffer, the parser copies it into its
 * WebAssembly memory, parses one body chunk, pauses again and `unshift`s the rest. Each such read also asks
 * the socket for more, so with an upstream faster than the caller the buffer grows (the gateway read 14 MB
 * ahead of a 32 MB gzip answer) and every resume copies all of it twice: time grows with the square of the
 * answer's size and RSS with the answer. A read of at most `maxRead` bytes copies that much, and Node asks
 * the socket for more only once less than its high-water mark is left, so the buffer stays a few records
 * long and the whole path is linear. The options are compared in bench/README.md ("Big answers"): undici's
 * dispatch API resumes through the same parser code; node:https is as fast but would be a second client
 * with its own pool, timeouts, error codes and connection metrics, for no speed gained.
 */
export function boundedReadConnector (options: buildConnector.BuildOptions, maxRead = MAX_READ_BYTES): buildConnector.connector {
  const connect = buildConnector(options)
  return function connectWithBoundedReads (target, callback) {
    connect(target, (...args) => {
      if (args[0] === null) boundReads(args[1], maxRead)
      callback(...args)
    })
  }
}

/** Makes `socket.read()` (no size) take at most `maxRead` bytes; reads with a size are left as they are. */
export function boundReads (socket: Socket, maxRead: number): void {
  const read = socket.read
  socket.read = function readBounded (this: Socket, size?: number) {
    if (size !== undefined) return read.call(this, size)
    const buffered = this.readableLength
    return read.call(this, buffered > maxRead ? maxRead : undefined)
  }
}
