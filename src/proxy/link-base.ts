import type { IncomingHttpHeaders } from 'node:http'

/** Where the base of rewritten links may come from (server.*). */
export interface LinkBaseOptions {
  readonly publicUrl?: string
  readonly trustProxy: boolean
  /** the API listener serves HTTPS */
  readonly tls: boolean
  /** server.host: the link host unless it is a wildcard address */
  readonly listenHost: string
}

/** What of one request the base may use: its headers (X-Forwarded-* only) and its own connection. */
export interface LinkBaseRequest {
  readonly headers: IncomingHttpHeaders
  readonly localAddress?: string
  readonly localPort?: number
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
// host[:port]: a DNS name, an IPv4 address or a bracketed IPv6 address; nothing else (no @, /, spaces).
const HOST_PORT = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]{2,45}\\])(?::(\\d{1,5}))?$`)
const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0'])

/**
 * The base of links the gateway hands out, e.g. `https://gw.example.com`: `server.publicUrl`, else (with
 * `server.trustProxy` only) a well-formed X-Forwarded-Host/Proto, else the listener's own address as the
 * connection reached it. Never the caller's Host header, so a caller cannot have links pointed elsewhere.
 */
export function linkBase (options: LinkBaseOptions, request: LinkBaseRequest): string {
  if (options.publicUrl !== undefined) return options.publicUrl.replace(/\/+$/, '')
  const scheme = options.tls ? 'https' : 'http'
  if (options.trustProxy) {
    const host = lastValue(request.headers['x-forwarded-host'])
    const proto = lastValue(request.headers['x-forwarded-proto'])?.toLowerCase()
    if (host !== undefined && isHostPort(host)) return `${proto === 'http' || proto === 'https' ? proto : scheme}://${host.toLowerCase()}`
  }
  const named = WILDCARD.has(options.listenHost) ? undefined : options.listenHost
  const host = named !== undefined && isHostPort(named) ? named : addressHost(request.localAddress)
  const port = request.localPort
  const defaultPort = options.tls ? 443 : 80
  return `${scheme}://${host}${port === undefined || port === defaultPort ? '' : `:${port}`}`
}

/** A syntactically valid host[:port] (port 1-65535), at most 260 characters. */
export function isHostPort (value: string): boolean {
  if (value.length > 260) return false
  const m = HOST_PORT.exec(value)
  if (m === null) return false
  return m[1] === undefined || (Number(m[1]) >= 1 && Number(m[1]) <= 65535)
}

/** The value a proxy in front of the gateway appended last (the nearest one, the one that is trusted). */
function lastValue (header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.at(-1) : header
  if (value === undefined) return undefined
  return value.slice(value.lastIndexOf(',') + 1).trim()
}

function addressHost (address: string | undefined): string {
  if (address === undefined || address === '') return '127.0.0.1'
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7)
  return address.includes(':') ? `[${address}]` : address
}
