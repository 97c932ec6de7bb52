import { createHash, X509Certificate } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import type { Configuration } from '@azure/msal-node'
import { TokenError } from './types.js'

interface Revealable { reveal (): string }

/** One app credential as the config named it; `name` labels logs and the expiry metric. */
export type Credential =
  | { readonly kind: 'secret', readonly name: string, readonly secret: Revealable, readonly expiresOn?: number }
  | { readonly kind: 'certificate', readonly name: string, readonly privateKey: Revealable, readonly certPem: string }
  /** a federated (workload identity) assertion that another system keeps rewriting in a file */
  | { readonly kind: 'assertion-file', readonly name: string, readonly path: string }

/** The part of msal's `auth` config that carries one credential (msal takes exactly one per client). */
export function credentialAuth (credential: Credential): Partial<Configuration['auth']> {
  if (credential.kind === 'secret') return { clientSecret: credential.secret.reveal() }
  if (credential.kind === 'assertion-file') {
    const read = createAssertionReader(credential.path)
    return { clientAssertion: async () => await read() }
  }
  return {
    clientCertificate: {
      thumbprintSha256: certificateThumbprint(credential.certPem),
      privateKey: credential.privateKey.reveal(),
      // x5c lets Entra accept a renewed certificate by subject name and issuer (SNI) without re-upload.
      x5c: credential.certPem
    }
  }
}

/** Hex SHA-256 of the certificate's DER form, which Entra matches against the `x5t#S256` header. */
export function certificateThumbprint (certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex')
}

/**
 * Reads the assertion file again only when it changed (mtime or size), so kubelet-style rotation is
 * picked up on the next token request without reading the file for every one.
 */
export function createAssertionReader (path: string): () => Promise<string> {
  let seen = ''
  let value = ''
  return async function readAssertion (): Promise<string> {
    try {
      const info = await stat(path)
      const version = `${info.mtimeMs}:${info.size}`
      if (version !== seen) {
        value = (await readFile(path, 'utf8')).trim()
        seen = version
      }
    } catch (err) {
      throw new TokenError('bad-credential', `cannot read the federated assertion file (${String((err as NodeJS.ErrnoException).code)})`)
    }
    if (value === '') throw new TokenError('bad-credential', 'the federated assertion file is empty')
    return value
  }
}

/** When a credential stops working, if known: certificate notAfter, or the secret's configured expiresOn. */
export function credentialExpiry (credential: Credential): number | undefined {
  if (credential.kind === 'certificate') return Date.parse(new X509Certificate(credential.certPem).validTo)
  if (credential.kind === 'secret') return credential.expiresOn
  return undefined
}

export interface ExpiryWatchOptions {
  readonly credentials: readonly Credential[]
  /** warn when less than this is left */
  readonly warnMs: number
  readonly now: () => number
  /** exported once per credential with a known expiry */
  report (name: string, expiresOn: number): void
  /** called at start and then daily for each credential close to (or past) its expiry */
  warn (name: string, expiresOn: number, expired: boolean): void
  /** how often to re-check; daily unless a test says otherwise */
  readonly everyMs?: number
}

/**
 * Exports every credential's expiry and warns ahead of it, at start and then daily, so a certificate
 * or secret is rotated before Entra starts answering 7000215/7000222. Returns a stop function.
 */
export function watchCredentialExpiry (options: ExpiryWatchOptions): () => void {
  const known = options.credentials.flatMap((c) => {
    const expiresOn = credentialExpiry(c)
    return expiresOn === undefined ? [] : [{ name: c.name, expiresOn }]
  })
  for (const k of known) options.report(k.name, k.expiresOn)
  const check = (): void => {
    for (const k of known) {
      const left = k.expiresOn - options.now()
      if (left < options.warnMs) options.warn(k.name, k.expiresOn, left <= 0)
    }
  }
  check()
  if (known.length === 0) return () => {}
  const timer = setInterval(check, options.everyMs ?? 86_400_000)
  timer.unref()
  return () => clearInterval(timer)
}
