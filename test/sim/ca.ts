import './reflect-polyfill.js'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

/** A server key pair in PEM form, ready for `https.createServer({ key, cert })`. */
export interface ServerCert { keyPem: string, certPem: string }

/** A throwaway certificate authority the tests trust instead of the system store. */
export interface TestCa { certPem: string, issueServerCert (hosts?: string[]): Promise<ServerCert> }

const subtle = webcrypto.subtle
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const HOUR = 3600_000
const DEFAULT_HOSTS = ['127.0.0.1', '::1', 'localhost']

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

function isIp (host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':')
}

function serial (): string {
  // positive, non-zero 16-byte serial (high bit cleared)
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return Buffer.from(bytes).toString('hex')
}

async function keyPair (): Promise<webcrypto.CryptoKeyPair> {
  return await subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
}

async function pkcs8Pem (key: webcrypto.CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key)
  return x509.PemConverter.encode(der, 'PRIVATE KEY')
}

/** Creates an ECDSA P-256 CA valid for one day that can issue loopback server certificates. */
export async function createTestCa (): Promise<TestCa> {
  const caKeys = await keyPair()
  const now = Date.now()
  const caName = 'CN=defender-gateway test CA'
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: caName,
    notBefore: new Date(now - HOUR),
    notAfter: new Date(now + 24 * HOUR),
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)
    ]
  })
  const certPem = caCert.toString('pem')

  async function issueServerCert (hosts: string[] = DEFAULT_HOSTS): Promise<ServerCert> {
    const keys = await keyPair()
    const start = Date.now()
    const names = hosts.map(h => ({ type: isIp(h) ? 'ip' as const : 'dns' as const, value: h }))
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${hosts[0] ?? 'localhost'}`,
      issuer: caCert.subject,
      notBefore: new Date(start - HOUR),
      notAfter: new Date(start + 24 * HOUR),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey)
      ]
    })
    return { keyPem: await pkcs8Pem(keys.privateKey), certPem: cert.toString('pem') }
  }

  return { certPem, issueServerCert }
}
