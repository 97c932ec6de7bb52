import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { resolve } from 'node:path'
import type { SecretRef } from './schema.js'

/**
 * A secret value that cannot leak by accident: JSON, string conversion and util.inspect all print
 * '[redacted]'. Only `reveal()` gives the value, at the single place that sends it.
 */
export class Secret {
  readonly #value: string
  constructor (value: string) { this.#value = value }
  reveal (): string { return this.#value }
  toJSON (): string { return '[redacted]' }
  toString (): string { return '[redacted]' }
  [inspect.custom] (): string { return 'Secret([redacted])' }
}

export interface SecretSource {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly baseDir: string
}

/** Resolves a reference or returns the problem (never the value) so load can report all at once. */
export function resolveSecret (ref: SecretRef, source: SecretSource): Secret | string {
  if ('fromEnv' in ref) {
    const value = source.env[ref.fromEnv]
    return value !== undefined && value !== '' ? new Secret(value) : `environment variable ${ref.fromEnv} is not set`
  }
  try {
    const value = readFileSync(resolve(source.baseDir, ref.fromFile), 'utf8').trim()
    return value !== '' ? new Secret(value) : `file ${ref.fromFile} is empty`
  } catch (err) {
    return `cannot read file ${ref.fromFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`
  }
}
