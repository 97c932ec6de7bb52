import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls'

/**
 * One TLS context for every outbound connection (Entra ID, Defender, probes) when `trust.caFile` adds a
 * CA. Built once: passing a CA list per connection makes Node build a context from ~150 roots for every
 * new socket (~20 ms of blocked event loop each, found by the benchmark).
 */
export function outboundTlsContext (caPem: string | undefined): SecureContext | undefined {
  if (caPem === undefined) return undefined
  // The token client and the proxy ask separately; each context holds its own copy of the root store.
  let context = built.get(caPem)
  if (context === undefined) {
    context = createSecureContext({ ca: [...rootCertificates, caPem] })
    built.set(caPem, context)
  }
  return context
}

const built = new Map<string, SecureContext>()
