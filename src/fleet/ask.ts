import { createHash } from 'node:crypto'
import { GatewayError } from '../errors.js'
import type { Client } from '../callers/authenticate.js'
import { authorise } from '../policy/authorise.js'
import type { RouteSpec } from '../policy/catalogue-data.js'
import { nonAsciiRejection } from '../policy/non-ascii.js'
import { parseTarget } from '../policy/path.js'
import type { Policy } from '../pipeline/policy-state.js'
import type { TenantEntry } from '../pipeline/state.js'
import { CURSOR_BOUNDS, tailOf, targetFits } from './cursor.js'

/** The query parameter that carries a fleet cursor; a request with it carries nothing else. */
export const CURSOR_PARAM = 'gatewayCursor'
/** The header that narrows a fleet read to some of the caller's tenants (ids or aliases, comma-separated). */
export const NARROW_HEADER = 'x-gateway-tenants'

const CURSOR_QUERY = new RegExp(`^\\?${CURSOR_PARAM}=([A-Za-z0-9_-]*)$`)
const MAX_NARROWING = 1000

/** A fleet request as asked: the `/api/...` path and query, or that path with a cursor. */
export type FleetAsk = { readonly target: string } | { readonly path: string, readonly cursor: string }

/** Splits `/api/...?query` (after `/fleet`, or at the root layout) into a fresh ask or a cursor ask. */
export function askOf (apiUrl: string): FleetAsk {
  const q = apiUrl.indexOf('?')
  const query = q === -1 ? '' : apiUrl.slice(q)
  const cursor = CURSOR_QUERY.exec(query)
  if (cursor !== null) return { path: apiUrl.slice(0, q), cursor: cursor[1] as string }
  if (new URLSearchParams(query).has(CURSOR_PARAM)) throw new GatewayError('BadRequest', `Follow the fleet nextLink as given: ${CURSOR_PARAM} comes alone, without other query options.`)
  if (!targetFits(apiUrl)) throw new GatewayError('BadRequest', `A fleet read carries its path and query in its cursor: keep them under ${CURSOR_BOUNDS.maxTarget} characters.`)
  return { target: apiUrl }
}

/** The GET catalogue route a `/api/...` link reads, by the one path parser and matcher of per-tenant requests. */
export function routeOfLink (policy: Policy, link: string): RouteSpec | GatewayError {
  const parsed = parseTarget(`/tenants/fleet${link}`)
  if (!parsed.ok) return new GatewayError('BadRequest', `Rejected request path: ${parsed.reason}.`)
  const { segments, upstreamPath } = parsed.target
  const route = policy.matchRoute('GET', segments)
  const unsafe = nonAsciiRejection(policy.matchRoute, 'GET', segments, route)
  if (unsafe !== undefined) return new GatewayError('BadRequest', `Rejected request path: ${unsafe}.`)
  if (route === undefined) return new GatewayError('UnknownRoute', `GET ${upstreamPath} is not a Defender for Endpoint API route the gateway knows.`)
  return route
}

/**
 * The tenants a fleet read goes to, sorted by id: every configured tenant the client may read with the
 * route's permission (the same authorise() as per-tenant requests), narrowed by the header when given.
 * A first page naming a tenant the client may not read this way is refused, never silently widened; a
 * later page (`following`) leaves such a tenant out instead, and the page reports it (planPage's `gone`).
 */
export function eligibleTenants (policy: Policy, client: Client, route: RouteSpec, narrowing: string | string[] | undefined, following = false): TenantEntry[] {
  const unique = new Map<string, TenantEntry>()
  for (const tenant of policy.tenants.values()) unique.set(tenant.id, tenant)
  let candidates = [...unique.values()]
  if (narrowing !== undefined) {
    const named = new Set<string>()
    for (const ref of narrowingRefs(narrowing)) {
      const tenant = policy.tenants.get(ref)
      const decision = authorise(client, tenant, ref.slice(0, 64), route)
      if (decision.allowed) named.add(tenant!.id)
      else if (!following) throw new GatewayError(decision.code, decision.message)
    }
    candidates = candidates.filter((t) => named.has(t.id))
  }
  const allowed = candidates.filter((t) => authorise(client, t, t.id, route).allowed).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  if (allowed.length === 0 && !following) {
    throw new GatewayError('TenantNotAllowed', `client '${client.name}' may read no tenant with GET ${route.template} (${route.permissions.join(' or ')}).`)
  }
  return allowed
}

/**
 * The narrowing a request asks for, as the cursor keeps it: a digest of the named tenants (ids, names
 * resolved; order, case and spelling do not matter), or undefined without the header. Fixed size, so
 * the cursor stays bounded however many tenants the header names.
 */
export function narrowingDigest (policy: Policy, narrowing: string | string[] | undefined): string | undefined {
  if (narrowing === undefined) return undefined
  const ids = [...new Set(narrowingRefs(narrowing).map((ref) => policy.tenants.get(ref)?.id ?? ref))].sort()
  return createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 32)
}

function narrowingRefs (narrowing: string | string[]): string[] {
  const refs = (Array.isArray(narrowing) ? narrowing.join(',') : narrowing).split(',').map((r) => r.trim().toLowerCase()).filter((r) => r !== '')
  if (refs.length === 0 || refs.length > MAX_NARROWING) throw new GatewayError('BadRequest', `${NARROW_HEADER} names 1 to ${MAX_NARROWING} tenants (ids or names), comma-separated.`)
  return refs
}

/** Whether the client may read `link` in the tenant now: the route it matches, or why not (re-checked on every page). */
export function routeFor (policy: Policy, client: Client, tenant: TenantEntry, link: string): RouteSpec | string {
  const route = routeOfLink(policy, link)
  if (route instanceof GatewayError) return route.message
  const decision = authorise(client, policy.tenants.get(tenant.id), tenant.id, route)
  return decision.allowed ? route : decision.message
}

const ABSOLUTE = /^https?:\/\/[^/?#\s]+(\/[^#\s]*)$/i

/**
 * A Defender nextLink as the path and query to read next (any host: only path and query are used, byte
 * for byte, and go to the tenant's own region with its token), authorised like the first page.
 */
export function followLink (policy: Policy, client: Client, tenant: TenantEntry, target: string, nextLink: unknown): { link: string } | { error: string } {
  if (typeof nextLink !== 'string' || nextLink.length > 4096) return { error: 'its nextLink is not a usable URL' }
  const link = ABSOLUTE.exec(nextLink)?.[1]
  if (link === undefined) return { error: 'its nextLink is not an absolute http(s) URL' }
  if (JSON.stringify(tailOf(target, link).tail).length - 2 > CURSOR_BOUNDS.maxTail) return { error: `its nextLink differs from the first query by more than ${CURSOR_BOUNDS.maxTail} characters` }
  const route = routeFor(policy, client, tenant, link)
  return typeof route === 'string' ? { error: `its nextLink was refused (${route})` } : { link }
}
