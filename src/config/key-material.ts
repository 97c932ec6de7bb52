import { createPrivateKey, X509Certificate } from 'node:crypto'

/**
 * Parses key material at config time, so `check-config` finds a file `serve` could not use (instead of
 * an OpenSSL error at start). Messages name what was expected, never what the file holds.
 */
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/** Why `pem` is not a usable private key, or undefined. */
export function privateKeyProblem (pem: string): string | undefined {
  try {
    createPrivateKey(pem)
    return undefined
  } catch {
    return 'not a readable private key (PEM, unencrypted: BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)'
  }
}

/** Why `pem` (a certificate, maybe followed by its chain) does not start with a usable certificate. */
export function certificateProblem (pem: string): string | undefined {
  const first = pem.match(PEM_CERT)?.[0]
  return first !== undefined && readable(first) ? undefined : 'not a readable X.509 certificate (PEM: BEGIN CERTIFICATE)'
}

/** Why `pem` is not a CA bundle every certificate of which can be trusted. */
export function caBundleProblem (pem: string): string | undefined {
  const certs = pem.match(PEM_CERT) ?? []
  if (certs.length === 0) return 'holds no PEM certificate (BEGIN CERTIFICATE)'
  const bad = certs.findIndex((c) => !readable(c))
  return bad === -1 ? undefined : `certificate ${bad + 1} of the bundle is not a readable X.509 certificate`
}

function readable (pem: string): boolean {
  try {
    return new X509Certificate(pem).subject !== undefined
  } catch {
    return false
  }
}
