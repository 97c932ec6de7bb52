import { pino, type Logger, type LoggerOptions } from 'pino'

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

/** The process logger; tests pass their own destination to collect lines. */
export function createLogger (level: string, destination?: NodeJS.WritableStream): Logger {
  return destination === undefined ? pino(loggerOptions(level)) : pino(loggerOptions(level), destination)
}
