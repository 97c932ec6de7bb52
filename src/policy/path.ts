/** Path safety and parsing of `/tenants/{tenant}/api/...` request targets, before any routing. */

export const MAX_PATH_LENGTH = 2048
export const MAX_QUERY_LENGTH = 8192

export interface GatewayTarget {
  /** the tenant segment as given (GUID or alias), lowercased */
  readonly tenantRef: string
  /** the tenant segment exactly as the caller wrote it, for messages */
  readonly tenantWritten: string
  /** upstream path exactly as received after the tenant prefix, starting with '/api/' */
  readonly upstreamPath: string
  /** raw query string including '?', or '' */
  readonly query: string
  /** decoded path segments after '/api' (for matching only, never forwarded) */
  readonly segments: readonly string[]
}

export type TargetResult = { ok: true, target: GatewayTarget } | { ok: false, reason: string }

// Anything the upstream might decode into a separator, a dot segment or a control character.
const FORBIDDEN_ENCODED = /%(?:2f|5c|25|00|0[1-9a-f]|1[0-9a-f]|7f|2e)/i
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\\#]/
// RFC 3986 path characters: anything else (quotes, braces, raw non-ASCII...) would be re-encoded by
// URL parsing on the way upstream, so the path Defender sees could differ from the one authorised.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/
const PREFIX = /^\/tenants\/([A-Za-z0-9._-]{1,64})(\/api(?:\/.*)?)$/i

/** Where an API's paths sit under `/tenants/{tenant}`: group 1 the tenant, group 2 the upstream path. */
export interface PathLayout {
  readonly prefix: RegExp
  /** said when a path does not fit, e.g. '/tenants/{tenantId}/api/...' */
  readonly shape: string
}

const DEFENDER_LAYOUT: PathLayout = { prefix: PREFIX, shape: '/tenants/{tenantId}/api/...' }

/**
 * Splits a raw request target into tenant, upstream path and query, or says why it is unsafe.
 * Pure: the same string always gives the same answer, so it is tested table-driven.
 */
export function parseTarget (rawUrl: string, layout: PathLayout = DEFENDER_LAYOUT): TargetResult {
  const q = rawUrl.indexOf('?')
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q)
  const query = q === -1 ? '' : rawUrl.slice(q)
  if (path.length > MAX_PATH_LENGTH) return fail('path too long')
  if (query.length > MAX_QUERY_LENGTH) return fail('query string too long')
  if (!path.startsWith('/')) return fail('request target must be a path')
  if (CONTROL.test(rawUrl)) return fail('control characters, backslash or fragment in request target')
  if (!PATH_CHARS.test(path)) return fail('characters that must be percent-encoded in path')
  if (FORBIDDEN_ENCODED.test(path)) return fail('encoded separators, dots, percent signs or control characters in path')
  if (path.includes('//')) return fail('empty path segment')
  const match = layout.prefix.exec(path)
  if (match === null) return fail(`path must be ${layout.shape}`)
  const tenantRef = match[1] as string
  const upstreamPath = match[2] as string
  const rawSegments = upstreamPath.split('/').slice(2)
  if (rawSegments.length > 0 && rawSegments[rawSegments.length - 1] === '') rawSegments.pop()
  const segments: string[] = []
  for (const raw of rawSegments) {
    if (raw === '.' || raw === '..') return fail('dot segment in path')
    let decoded: string
    try { decoded = decodeURIComponent(raw) } catch { return fail('malformed percent-encoding in path') }
    segments.push(decoded)
  }
  if (tenantRef === '.' || tenantRef === '..') return fail('dot segment in path')
  return { ok: true, target: { tenantRef: tenantRef.toLowerCase(), tenantWritten: tenantRef, upstreamPath, query, segments } }
}

function fail (reason: string): TargetResult {
  return { ok: false, reason }
}
