import { Counter, type Registry } from 'prom-client'

/** Token checks and re-acquisitions: how often the identity path handed over a wrong token, and how a 401 storm was damped. */
export interface TokenCheckMetrics {
  readonly checkFailures: Counter<'reason' | 'origin'>
  readonly reacquisitions: Counter<'outcome'>
}

/** Registers the metrics on the app's registry (once, from the token wiring, like the other token metrics). */
export function createTokenCheckMetrics (registry: Registry): TokenCheckMetrics {
  const registers = [registry]
  return {
    checkFailures: new Counter({
      name: 'defender_gateway_token_check_failures_total',
      help: 'Tokens refused and purged because they belong to another tenant (reason="tenant") or another resource (reason="audience"), by where they came from (origin="entra" or "shared").',
      labelNames: ['reason', 'origin'],
      registers
    }),
    reacquisitions: new Counter({
      name: 'defender_gateway_token_reacquisitions_total',
      help: 'Re-acquisitions after Defender rejected a token or an operator forced a refresh: started (asked Entra ID) or shared (joined the tenant\'s cool-down window).',
      labelNames: ['outcome'],
      registers
    })
  }
}
