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

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    base: { service: 'defender-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' }
  }
}

/** The process logger; tests pass their own destination to collect lines. */
export function createLogger (level: string, destination?: NodeJS.WritableStream): Logger {
  return destination === undefined ? pino(loggerOptions(level)) : pino(loggerOptions(level), destination)
}
