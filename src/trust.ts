import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls'

/**
 * One TLS context for every outbound connection (Entra ID, Defender, probes) when `trust.caFile` adds a
 * CA. Built once: passing a CA list per connection makes Node build a context from ~150 roots for every
 * new socket (~20 ms of blocked event loop each, found by the benchmark).
 */
export function outboundTlsContext (caPem: string | undefined): SecureContext | undefined {
  if (caPem === undefined) return undefined
  return createSecureContext({ ca: [...rootCertificates, caPem] })
}
