import { Counter, type Registry } from 'prom-client'
import { createGuessLimiter } from '../../token-endpoint/guess-limit.js'

/** Why a status-page sign-in was refused: a bounded set, used as the metric's label. */
export type SignInRefusal = 'wrong_token' | 'too_many_failures' | 'malformed'

/** The token endpoint's guessing rule applied to the admin token: failures counted per source address. */
export interface SignInLimit {
  /** seconds until this address may try again, or undefined when it may try now */
  blockedFor (address: string): number | undefined
  /** one more wrong token from this address */
  fail (address: string): void
  /** counts a refusal on `defender_gateway_status_sign_in_refusals_total` */
  refused (reason: SignInRefusal): void
}

// The token endpoint's defaults (oauth.maxFailures, oauth.failureWindowSeconds): 10 wrong tokens per 5 minutes.
const MAX_FAILURES = 10
const WINDOW_MS = 300_000

/**
 * Keys are source addresses only, never the token: someone guessing from one address cannot lock the
 * admin out from another. The admin listener is not behind the API's trusted proxy: the socket's peer counts.
 */
export function createSignInLimit (registry: Registry | undefined, now: () => number = Date.now): SignInLimit {
  const limiter = createGuessLimiter({ maxFailures: MAX_FAILURES, windowMs: WINDOW_MS, now, maxKeys: 10_000 })
  const refusals = new Counter({ name: 'defender_gateway_status_sign_in_refusals_total', help: 'Status page sign-ins refused, by reason.', labelNames: ['reason'], registers: registry === undefined ? [] : [registry] })
  return {
    blockedFor: (address) => limiter.blockedFor(`a:${address}`),
    fail: (address) => { limiter.fail(`a:${address}`) },
    refused: (reason) => { refusals.inc({ reason }) }
  }
}
