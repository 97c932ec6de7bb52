import { constants, createHash, createPublicKey, verify, X509Certificate } from 'node:crypto'
import { decodeJwtPayload } from './entra-jwt.js'

/** The audience Entra requires of a federated (workload identity) assertion. */
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange'

/** What the simulated app registration trusts besides secrets. */
export interface AssertionTrust {
  clientId: string
  /** PEM certificates registered on the app; when any is set, certificate assertions are fully checked */
  certificates: string[]
  /** issuers of federated credentials (e.g. a Kubernetes OIDC issuer) */
  federatedIssuers: string[]
}

function header (jwt: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** base64url SHA-256 of a certificate's DER: the `x5t#S256` value Entra matches. */
export function x5tS256 (certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url')
}

function signatureOk (jwt: string, certPem: string): boolean {
  const [h, p, s] = jwt.split('.')
  const key = createPublicKey(certPem)
  const data = Buffer.from(`${h ?? ''}.${p ?? ''}`)
  const sig = Buffer.from(s ?? '', 'base64url')
  return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig) ||
    verify('sha256', data, key, sig)
}

/**
 * Checks a client assertion like Entra: a federated one by issuer and audience; a certificate one by
 * its `x5t#S256` thumbprint, its `x5c` chain and its signature, once certificates are registered
 * (until then only iss/sub are checked, as the original simulator did).
 */
export function assertionAccepted (assertion: string, trust: AssertionTrust): boolean {
  const claims = decodeJwtPayload(assertion)
  const head = header(assertion)
  if (claims === undefined || head === undefined) return false
  if (typeof claims.iss === 'string' && trust.federatedIssuers.includes(claims.iss)) {
    return claims.aud === FEDERATED_AUDIENCE && typeof claims.sub === 'string'
  }
  if (claims.iss !== trust.clientId || claims.sub !== trust.clientId) return false
  if (trust.certificates.length === 0) return true
  const cert = trust.certificates.find((c) => x5tS256(c) === head['x5t#S256'])
  if (cert === undefined) return false
  const chain = head.x5c
  const der = new X509Certificate(cert).raw.toString('base64')
  if (!Array.isArray(chain) || chain[0] !== der) return false
  return signatureOk(assertion, cert)
}
