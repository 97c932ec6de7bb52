import type { Counter } from 'prom-client'
import type { ClientEntry, TokenAuthenticator } from '../callers/authenticate.js'
import { indexClients, recheckToken } from './recheck.js'
import { verifyGatewayToken, type BearerRejection, type VerifyOptions } from './verify.js'

export type { BearerRejection } from './verify.js'
export { createKeyRing, type KeyRing } from './keys.js'
export { acceptedResources, graphAudiences } from './resources.js'
export { FLEET_TENANT } from './claims.js'

/** The verifying side, built once at start; `forClients` is rebuilt with every policy (reload). */
export interface GatewayTokenVerifier {
  forClients (entries: readonly ClientEntry[]): TokenAuthenticator
}

/**
 * Gateway tokens as a caller credential beside API keys: a token is accepted only while its signature,
 * times, issuer and audience hold and the current config still has its client with the same key.
 */
export function createGatewayTokenVerifier (options: VerifyOptions, rejections: Counter<'reason'>): GatewayTokenVerifier {
  const refuse = (reason: BearerRejection): undefined => { rejections.inc({ reason }) }
  return {
    forClients (entries) {
      const clients = indexClients(entries)
      return async function authenticateToken (token) {
        const check = await verifyGatewayToken(token, options)
        if (!check.ok) return refuse(check.reason)
        const client = recheckToken(check.claims, check.key, clients, options.graphAudiences)
        return typeof client === 'string' ? refuse(client) : client
      }
    }
  }
}
