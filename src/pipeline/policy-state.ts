import { createAuthenticator, type Authenticator, type TokenAuthenticator } from '../callers/authenticate.js'
import type { GatewayTokenVerifier } from '../gateway-tokens/index.js'
import type { ParsedConfig } from '../config/schema.js'
import type { RouteSpec } from '../policy/catalogue-data.js'
import { catalogue } from '../policy/catalogue.js'
import { createMatcher, type RouteMatcher } from '../policy/match.js'
import { GRAPH_ROUTES } from '../graph/catalogue-data.js'
import { createGraphMatcher } from '../graph/path.js'
import type { TenantEntry } from './state.js'

/**
 * Everything a reload may change (clients, tenants, extra routes), built whole from a config and swapped
 * in one assignment, so a request sees either the old policy or the new one, never a mix.
 */
export interface Policy {
  readonly authenticate: Authenticator
  /** gateway access tokens (oauth section), re-checked against this policy's clients; absent = off */
  readonly authenticateToken?: TokenAuthenticator
  readonly matchRoute: RouteMatcher
  /** the Graph security catalogue (src/graph), matched on the segments after the version */
  readonly matchGraphRoute: RouteMatcher
  /** both catalogues (Defender's with extra routes, then Graph's), for explain */
  readonly routes: readonly RouteSpec[]
  /** by lowercase id and by lowercase alias */
  readonly tenants: ReadonlyMap<string, TenantEntry>
}

/** A holder the hooks read on every request; `current` is replaced on SIGHUP. */
export interface PolicyHolder { current: Policy }

export function buildPolicy (config: Pick<ParsedConfig, 'clients' | 'tenants' | 'extraRoutes'>, tokens?: GatewayTokenVerifier): Policy {
  const tenants = new Map<string, TenantEntry>()
  for (const t of config.tenants) {
    const entry: TenantEntry = { id: t.id, permissions: new Set(t.permissions), regions: t.regions }
    tenants.set(t.id, entry)
    if (t.name !== undefined) tenants.set(t.name.toLowerCase(), entry)
  }
  const routes = catalogue(config.extraRoutes)
  return {
    authenticate: createAuthenticator(config.clients),
    authenticateToken: tokens?.forClients(config.clients),
    matchRoute: createMatcher(routes),
    matchGraphRoute: createGraphMatcher(GRAPH_ROUTES),
    routes: [...routes, ...GRAPH_ROUTES],
    tenants
  }
}
