import type { IncomingMessage } from 'node:http'
import { presentedJwt } from '../callers/authenticate.js'
import { FLEET_TENANT } from '../gateway-tokens/index.js'
/** Where fleet reads live; Defender's root layout (`/api/...`) leads here for an `organizations` token. */
export const FLEET_PREFIX = '/fleet'

const ROOT_API = /^\/api(?:[/?]|$)/i

/**
 * Fastify's rewriteUrl (before routing): Defender's root layout with a gateway token issued for
 * `organizations` is a fleet read. Only routing looks at the unverified claim here; the fleet route
 * then authenticates the token in full like any other, so a forged claim gains nothing.
 */
export function fleetRewrite (request: IncomingMessage): string {
  const url = request.url ?? '/'
  if (!ROOT_API.test(url)) return url
  const jwt = presentedJwt(request.headers)
  if (jwt === undefined) return url
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { tid?: unknown }
    // `/api` matches in any case at the root layout (as for a tenant's token); the fleet route spells it lowercase.
    return claims.tid === FLEET_TENANT ? `${FLEET_PREFIX}/api${url.slice(4)}` : url
  } catch {
    return url
  }
}
