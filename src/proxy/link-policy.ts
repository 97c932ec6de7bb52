import { CLOUDS, type CloudName } from '../regions/clouds.js'

/** Why a nextLink was removed from an answer: a bounded set, used as a metric label. */
export type LinkRemoval = 'malformed' | 'unknown_host' | 'not_api_path' | 'too_long'

/** What to do with one `@odata.nextLink` value. */
export type LinkDecision =
  | { readonly action: 'rewrite', readonly link: string }
  | { readonly action: 'keep' }
  | { readonly action: 'remove', readonly reason: LinkRemoval, readonly host?: string, readonly path?: string }

/** Longest nextLink kept: Defender's `$skiptoken` links are a few hundred bytes, never kilobytes. */
export const MAX_LINK_BYTES = 8 * 1024

// Printable ASCII without space, `"` and `\`: what a well-formed URL is made of. Anything else (control
// characters, tabs and newlines a URL parser strips, non-ASCII that IDNA folds into dots) is refused.
const URL_CHARS = /^[\x21\x23-\x5b\x5d-\x7e]+$/
// scheme://host[:port]/path: a DNS name or IPv4 address, no userinfo, no IPv6, no empty authority.
const ABSOLUTE = /^(https?):\/\/([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::(\d{1,5}))?(\/[^#]*)?$/i
const API_PATH = /^\/api(?:[/?]|$)/i
// `.` or `..` as a path segment, also percent-encoded: a client would resolve it away from /api.
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:[/?]|$)/i

// Hosts that serve downloads with their own SAS signature: left as they are, never pointed at the gateway.
const DOWNLOAD_HOST = /(^|\.)blob\.core\.windows\.net$|^userrequests-[a-z0-9-]+\.securitycenter\.windows\.com$/i

// Names Defender builds its links from besides the region table (reference §1.1, §5.4): the global and
// legacy hosts of each cloud. Links on them are rewritten; the gateway never calls their host.
const LEGACY_HOSTS: Readonly<Record<CloudName, readonly string[]>> = {
  public: [
    'api.security.microsoft.com', 'api.securitycenter.microsoft.com', 'api.securitycenter.windows.com',
    ...['us', 'eu', 'uk'].flatMap((geo) => [`api-${geo}.securitycenter.microsoft.com`, `api-${geo}.securitycenter.windows.com`, `api-${geo}.security.microsoft.com`])
  ],
  gcc: ['api-gcc.securitycenter.microsoft.us'],
  'gcc-high': ['api-gov.securitycenter.microsoft.us'],
  dod: ['api-gov.securitycenter.microsoft.us']
}

/**
 * The `host:port` pairs whose links are Defender's own: the cloud's region and global hosts, the
 * configured region URLs and any extra names the operator lists. Anything else is refused.
 */
export function knownLinkHosts (cloud: CloudName, regionUrls: readonly string[], extraHosts: readonly string[] = []): ReadonlySet<string> {
  const known = new Set<string>()
  const names = [...Object.values(CLOUDS[cloud].regions), ...regionUrls].map((u) => new URL(u))
  for (const url of names) known.add(`${url.hostname.toLowerCase()}:${url.port === '' ? defaultPort(url.protocol) : url.port}`)
  for (const name of [...LEGACY_HOSTS[cloud], ...extraHosts]) {
    const [host, port] = name.toLowerCase().split(':') as [string, string | undefined]
    if (port !== undefined) known.add(`${host}:${port}`)
    else { known.add(`${host}:443`); known.add(`${host}:80`) }
  }
  return known
}

/**
 * Decides one nextLink: a link on a known Defender host under `/api` (or `apiPath`: Graph's `/v1.0/security`) is pointed at the gateway (path and
 * query kept byte for byte); a well-formed https link on a download host is kept; anything else is
 * removed, so a caller is never handed a link to a host the gateway does not know.
 */
export function decideLink (link: string, known: ReadonlySet<string>, gatewayPrefix: string, apiPath: RegExp = API_PATH): LinkDecision {
  if (link.length > MAX_LINK_BYTES) return { action: 'remove', reason: 'too_long' }
  const m = URL_CHARS.test(link) ? ABSOLUTE.exec(link) : null
  if (m === null) return { action: 'remove', reason: 'malformed' }
  const scheme = (m[1] as string).toLowerCase()
  const host = (m[2] as string).toLowerCase()
  const port = m[3] ?? String(defaultPort(`${scheme}:`))
  const pathAndQuery = m[4] ?? ''
  if (Number(port) > 65535 || host.includes('..')) return { action: 'remove', reason: 'malformed' }
  const path = pathAndQuery.split('?', 1)[0] as string
  if (DOWNLOAD_HOST.test(host) && scheme === 'https') return { action: 'keep' }
  if (!known.has(`${host}:${port}`)) return { action: 'remove', reason: 'unknown_host', host, path: path.slice(0, 128) }
  if (!apiPath.test(pathAndQuery) || DOT_SEGMENT.test(path)) return { action: 'remove', reason: 'not_api_path', host, path: path.slice(0, 128) }
  return { action: 'rewrite', link: gatewayPrefix + pathAndQuery }
}

function defaultPort (protocol: string): number {
  return protocol === 'http:' ? 80 : 443
}
