import type { Client, ClientEntry } from '../callers/authenticate.js'
import { FLEET_TENANT, normaliseResource, type GatewayClaims } from './claims.js'
import { keyFingerprint, type SigningKey } from './keys.js'
import type { BearerRejection } from './verify.js'

/** A configured client as the re-check needs it, looked up by clientId or name (lowercase). */
export type ClientsByAppId = ReadonlyMap<string, ClientEntry>

/** Indexes the current config's clients by what a token's `appid` may hold. */
export function indexClients (entries: readonly ClientEntry[]): ClientsByAppId {
  const byId = new Map<string, ClientEntry>()
  for (const e of entries) {
    byId.set(e.name.toLowerCase(), e)
    if (e.clientId !== undefined) byId.set(e.clientId.toLowerCase(), e)
  }
  return byId
}

/**
 * Re-checks a verified token against the config in force now: the client must still exist with the
 * same key, and may use only the token's tenant, with the roles it was issued that the client still
 * holds. Tenant allowlists are checked afterwards by authorise(), as for API keys. Pure.
 */
export function recheckToken (claims: GatewayClaims, key: SigningKey, clients: ClientsByAppId, graphAudiences?: ReadonlySet<string>): Client | BearerRejection {
  const entry = clients.get(claims.appid.toLowerCase())
  if (entry === undefined) return 'client_removed'
  if (keyFingerprint(key, entry.keySha256) !== claims.kfp) return 'key_changed'
  const current = new Set(entry.permissions)
  // A fleet token (`organizations`) reads the client's tenants as configured now; admit refuses it
  // anywhere but a fleet read.
  const fleet = claims.tid === FLEET_TENANT
  const stillAllowed = entry.tenants.includes('*') || entry.tenants.includes(claims.tid)
  return {
    name: entry.name,
    tenants: new Set(fleet ? entry.tenants : stillAllowed ? [claims.tid] : []),
    permissions: new Set(claims.roles.filter((r) => current.has(r))),
    tokenTenant: claims.tid,
    tokenApi: graphAudiences?.has(normaliseResource(claims.aud)) === true ? 'graph' : 'defender'
  }
}
