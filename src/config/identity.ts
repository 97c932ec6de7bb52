import { resolve } from 'node:path'
import type { Credential } from '../tokens/credentials.js'
import { certificateProblem } from './key-material.js'
import type { CredentialConfig, ParsedConfig, SecretRef } from './schema.js'
import type { Secret, SecretSource } from './secret.js'

/** How load.ts resolves references, passed in so problems land in its one list. */
export interface MaterialReaders {
  secret (ref: SecretRef | undefined, where: string): Secret | undefined
  /** a certificate file, parsed (a problem when it holds no readable certificate) */
  file (path: string | undefined, where: string, check?: (pem: string) => string | undefined): string | undefined
  /** a private key file, parsed */
  key (path: string | undefined, where: string): Secret | undefined
}

/** What load.ts already resolved for the single-credential shorthand (identity.secret / .certificate). */
export interface Shorthand {
  readonly clientSecret?: Secret
  readonly certificateKey?: Secret
  readonly certificatePem?: string
}

/**
 * The app credentials in the order they are tried: the `credentials` list, or the one shorthand key.
 * Each is named after its place in the config unless it has a name, so logs and metrics say which.
 */
export function readCredentials (identity: ParsedConfig['identity'], shorthand: Shorthand, read: MaterialReaders, source: SecretSource): Credential[] {
  if (identity.credentials !== undefined) {
    return identity.credentials.flatMap((c, i) => one(c, c.name ?? `identity.credentials[${i}]`, `identity.credentials[${i}]`, read, source))
  }
  if (shorthand.clientSecret !== undefined) return [{ kind: 'secret', name: 'identity.secret', secret: shorthand.clientSecret }]
  if (shorthand.certificateKey !== undefined && shorthand.certificatePem !== undefined) {
    return [{ kind: 'certificate', name: 'identity.certificate', privateKey: shorthand.certificateKey, certPem: shorthand.certificatePem }]
  }
  return one({ assertionFile: identity.assertionFile }, 'identity.assertionFile', 'identity', read, source)
}

function one (c: CredentialConfig, name: string, where: string, read: MaterialReaders, source: SecretSource): Credential[] {
  if (c.secret !== undefined) {
    const secret = read.secret(c.secret, `${where}.secret`)
    const expiresOn = c.expiresOn === undefined ? undefined : Date.parse(c.expiresOn)
    return secret === undefined ? [] : [{ kind: 'secret', name, secret, expiresOn }]
  }
  if (c.certificate !== undefined) {
    const privateKey = read.key(c.certificate.keyFile, `${where}.certificate.keyFile`)
    const certPem = read.file(c.certificate.certFile, `${where}.certificate.certFile`, certificateProblem)
    return privateKey === undefined || certPem === undefined ? [] : [{ kind: 'certificate', name, privateKey, certPem }]
  }
  if (c.assertionFile === undefined) return []
  // Read once now so a wrong path is a config problem; the token layer re-reads it as it changes.
  const readable = read.secret({ fromFile: c.assertionFile }, `${where}.assertionFile`)
  return readable === undefined ? [] : [{ kind: 'assertion-file', name, path: resolve(source.baseDir, c.assertionFile) }]
}
