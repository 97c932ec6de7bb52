import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'

/**
 * Every place a credential can sit in a log object. Redaction is configured once here so no call
 * site has to remember it.
 */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie',
  'headers.authorization', 'headers["x-api-key"]', 'headers.cookie',
  'res.headers["set-cookie"]',
  'accessToken', 'token', 'secret', 'clientSecret', 'password', 'key', 'apiKey'
]

let second = Number.NaN
let secondPrefix = ''

/**
 * pino's isoTime builds a Date and formats it for every line (~5 µs a request in the profile): the
 * same ISO 8601 text, with the date and time up to the second formatted once per second.
 */
export function isoTime (now: number = Date.now()): string {
  const s = Math.floor(now / 1000)
  if (s !== second) {
    second = s
    secondPrefix = new Date(s * 1000).toISOString().slice(0, 20)
  }
  return `,"time":"${secondPrefix}${String(now - s * 1000).padStart(3, '0')}Z"`
}

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    base: { service: 'defender-gateway' },
    timestamp: isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' }
  }
}

/** Access-line bytes held before a write: about a dozen access lines per write(2) instead of one each. */
export const LOG_BUFFER_BYTES = 4096
/** The longest a held access line waits for its write when traffic is low. */
export const LOG_FLUSH_MS = 1000
/** How every access line ends (src/pipeline/record.ts logs it with the message `request`; pino puts msg last). */
const ACCESS_LINE_END = ',"msg":"request"}\n'

/** A log destination that batches access lines and can write what it holds at once (on exit). */
export interface LogDestination extends DestinationStream {
  flush (cb?: (err?: Error) => void): void
  flushSync (): void
}

/**
 * Where the process logs go (stdout, or a file): synchronous writes like pino's default, except that
 * access lines are held until LOG_BUFFER_BYTES are ready or `flushMs` has passed. One write(2) per
 * request cost more CPU than most features of the gateway. Every other line (audit, warnings, errors,
 * lifecycle) is written at once, with the access lines before it, in order; src/server.ts writes the
 * held lines when the process exits (crashes included; only a SIGKILL loses up to `flushMs` of them).
 */
export function logDestination (dest: number | string = 1, flushMs = LOG_FLUSH_MS): LogDestination {
  const stream = pino.destination({ dest, sync: true, minLength: LOG_BUFFER_BYTES, periodicFlush: flushMs })
  return {
    write (line: string) {
      stream.write(line)
      if (!line.endsWith(ACCESS_LINE_END)) stream.flush()
    },
    flush (cb) { stream.flush(cb) },
    flushSync () { stream.flushSync() }
  }
}

/** The process logger; tests pass their own destination to collect lines. */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  return destination === undefined ? pino(loggerOptions(level)) : pino(loggerOptions(level), destination)
}
