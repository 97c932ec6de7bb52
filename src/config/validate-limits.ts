import type { ParsedConfig } from './schema.js'
import { checkRedis } from './validate-redis.js'

/**
 * Cross-checks of the `redis` and `limits` sections (names they refer to, rules a schema cannot say),
 * kept apart from validate.ts so each concern reads on its own.
 */
export function checkLimitsAndRedis (parsed: ParsedConfig, rateClasses: readonly string[]): string[] {
  const problems: string[] = []
  const clients = new Set(parsed.clients.map((c) => c.name.toLowerCase()))
  for (const name of Object.keys(parsed.limits.clientShares)) {
    if (!clients.has(name.toLowerCase())) problems.push(`limits.clientShares.${name}: unknown client '${name}'`)
  }
  for (const name of Object.keys(parsed.limits.classes)) {
    if (!rateClasses.includes(name)) {
      problems.push(`limits.classes.${name}: unknown rate class '${name}'; known: ${rateClasses.join(', ')}`)
    }
  }
  problems.push(...checkRedis(parsed.redis))
  return problems
}

/** Shortest token key accepted: anything shorter is guessable, whatever the KDF. */
export const MIN_TOKEN_KEY_LENGTH = 32
