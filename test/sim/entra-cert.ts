import './reflect-polyfill.js'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

/** An app credential certificate (RSA, as msal signs PS256) and its private key, both PEM. */
export interface ClientCertificate { keyPem: string, certPem: string }

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

/** A self-signed certificate like the ones uploaded to an app registration; notAfter is chosen by the test. */
export async function createClientCertificate (notAfter: Date = new Date(Date.now() + 365 * 86_400_000)): Promise<ClientCertificate> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=defender-gateway test app',
    notBefore: new Date(Date.now() - 3600_000),
    notAfter,
    signingAlgorithm: ALG,
    keys
  })
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)
  return { keyPem: x509.PemConverter.encode(der, 'PRIVATE KEY'), certPem: cert.toString('pem') }
}
