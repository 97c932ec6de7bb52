import type { Bindings, ChildLoggerOptions, Logger } from 'pino'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * fastify gives every request a child logger bound to its request id. Building a pino child serialises
 * its bindings (about 1.3% of the gateway's CPU per request in the issue-16 profile), yet most requests
 * never log through it: the access line is written by src/pipeline/record.ts through the root logger.
 * This stands in for the child and builds it on the first line a request actually logs (a warning, an
 * error), with the same bindings and options, so those lines read exactly as before.
 */
export class LazyRequestLogger {
  #child: Logger | undefined
  readonly #parent: Logger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions

  constructor (parent: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  /** the real pino child, built once */
  get logger (): Logger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options)
    return this.#child
  }

  get level (): string { return this.#child?.level ?? this.#options.level ?? this.#parent.level }
  set level (level: string) { this.logger.level = level }

  // Methods on the prototype: a request that never logs allocates nothing but this object.
  fatal (...args: unknown[]): void { call(this.logger, 'fatal', args) }
  error (...args: unknown[]): void { call(this.logger, 'error', args) }
  warn (...args: unknown[]): void { call(this.logger, 'warn', args) }
  info (...args: unknown[]): void { call(this.logger, 'info', args) }
  debug (...args: unknown[]): void { call(this.logger, 'debug', args) }
  trace (...args: unknown[]): void { call(this.logger, 'trace', args) }
  silent (): void {}

  child (bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options)
  }

  isLevelEnabled (level: string): boolean {
    return (this.#child ?? (this.#options.level === undefined ? this.#parent : this.logger)).isLevelEnabled(level)
  }
}

function call (logger: Logger, level: Level, args: unknown[]): void {
  (logger[level] as (...a: unknown[]) => void).apply(logger, args)
}
