import { parseTarget, type PathLayout, type TargetResult } from '../policy/path.js'
import { asciiLower, createMatcher, type RouteMatcher } from '../policy/match.js'
import type { RouteSpec } from '../policy/catalogue-data.js'

/** `/tenants/{tenant}/graph/{v1.0|beta}/...`: group 2 is the path Graph sees, version included. */
export const GRAPH_LAYOUT: PathLayout = {
  prefix: /^\/tenants\/([A-Za-z0-9._-]{1,64})\/graph(\/(?:v1\.0|beta)(?:\/.*)?)$/,
  shape: '/tenants/{tenantId}/graph/v1.0/security/... (or /beta/security/...)'
}

const TENANT_GRAPH = /^\/tenants\/[^/?]*\/graph(?:[/?]|$)/i
const ROOT_GRAPH = /^\/(?:v1\.0|beta)(?:[/?]|$)/i

/**
 * Whether a request is addressed to the Graph side (its errors then use Graph's shape): the tenant
 * layout `/tenants/{t}/graph/...` or Graph's own layout at the root (`/v1.0/...`, `/beta/...`).
 */
export function isGraphUrl (url: string): boolean {
  return TENANT_GRAPH.test(url) || ROOT_GRAPH.test(url)
}

/**
 * The Graph request target; Graph's own layout at the root is open only to a gateway token for the Graph
 * resource and goes to the token's tenant, parsed as `/tenants/{tid}/graph/...` so one parser decides.
 */
export function graphTarget (url: string, tokenTenant: string | undefined): TargetResult & { root: boolean } {
  if (ROOT_GRAPH.test(url)) {
    if (tokenTenant === undefined) return { ok: false, reason: 'Graph paths at the root need a gateway token for the Graph resource; otherwise use /tenants/{tenantId}/graph/v1.0/...', root: true }
    return { ...parseTarget(`/tenants/${tokenTenant}/graph${url}`, GRAPH_LAYOUT), root: true }
  }
  return { ...parseTarget(url, GRAPH_LAYOUT), root: false }
}

/**
 * Matches Graph routes on the segments after the version. A second version segment is refused: the
 * shared matcher skips one leading `v1.0` (Defender's optional prefix), which Graph would read as a path.
 */
export function createGraphMatcher (routes: readonly RouteSpec[]): RouteMatcher {
  const inner = createMatcher(routes)
  return function matchGraphRoute (method, segments) {
    return asciiLower(segments[0] ?? '') === 'security' ? inner(method, segments) : undefined
  }
}
