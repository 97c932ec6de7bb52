/**
 * The files `npm run demo` writes to its temp folder: the config, the secrets it references (so the CLI
 * lines it prints work against the same config with no environment to set up), the CA to trust, and the
 * gateway's TLS certificate issued by that CA.
 */
import { randomBytes } from 'node:crypto'
import { chmod, copyFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { keyHash } from '../src/callers/authenticate.js'
import type { SimWorld } from '../test/sim/index.js'

export const CONTOSO = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
export const FABRIKAM = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e'
/** a customer that has not consented yet (no grants in the simulated Entra ID) */
export const NORTHWIND = '7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f'
export const CLIENT_ID = '00000000-0000-4000-8000-0000000000de'
/** the demo client's OAuth2 client id (an unmodified Defender connector sends it as client_id) */
export const DEMO_CLIENT_ID = '5e1e0000-aaaa-4bbb-8ccc-0000000000de'

/** What the demo made up at start; printed once so a newcomer can use it. */
export interface DemoSecrets {
  readonly clientSecret: string
  readonly apiKey: string
  readonly adminToken: string
  readonly signingKey: string
  /** signs the customer onboarding links and consent states */
  readonly onboardingKey: string
}

export function newSecrets (): DemoSecrets {
  return {
    clientSecret: randomBytes(24).toString('base64url'),
    apiKey: `demo_${randomBytes(18).toString('base64url')}`,
    adminToken: `admin_${randomBytes(18).toString('base64url')}`,
    signingKey: randomBytes(32).toString('base64url'),
    onboardingKey: randomBytes(32).toString('base64url')
  }
}

export interface DemoFiles {
  readonly configFile: string
  /** the CA that signed every certificate of the demo (gateway, Entra ID, Defender regions) */
  readonly caFile: string
}

/** Writes everything into `dir` (a fresh temp folder the demo removes when it stops). */
export async function writeDemoFiles (dir: string, sim: SimWorld, secrets: DemoSecrets, ports: { api: number, admin: number }): Promise<DemoFiles> {
  const caFile = join(dir, 'ca.pem')
  await copyFile(sim.caFile, caFile)
  const tls = await sim.ca.issueServerCert(['127.0.0.1', 'localhost'])
  await secretFile(join(dir, 'gateway.key'), tls.keyPem)
  await writeFile(join(dir, 'gateway.crt'), tls.certPem)
  await secretFile(join(dir, 'client-secret'), secrets.clientSecret)
  await secretFile(join(dir, 'admin-token'), secrets.adminToken)
  await secretFile(join(dir, 'oauth-signing-key'), secrets.signingKey)
  await secretFile(join(dir, 'onboarding-signing-key'), secrets.onboardingKey)
  const configFile = join(dir, 'gateway.yaml')
  await writeFile(configFile, configText(sim, secrets, ports))
  return { configFile, caFile }
}

async function secretFile (path: string, value: string): Promise<void> {
  await writeFile(path, value, { mode: 0o600 })
  await chmod(path, 0o600)
}

function configText (sim: SimWorld, secrets: DemoSecrets, ports: { api: number, admin: number }): string {
  return [
    '# demo config written by `npm run demo`; relative paths are next to this file',
    `server: { host: 127.0.0.1, port: ${ports.api}, tls: { certFile: gateway.crt, keyFile: gateway.key } }`,
    `admin: { host: 127.0.0.1, port: ${ports.admin}, token: {fromFile: admin-token} }`,
    `identity: { clientId: ${CLIENT_ID}, secret: {fromFile: client-secret}, authorityHost: '${sim.entra.url}' }`,
    'trust: { caFile: ca.pem }',
    `graph: { url: '${sim.graph.url}' }`,
    `upstream: { region: auto, regions: { eu: '${sim.regions.eu!.url}', us: '${sim.regions.us!.url}' } }`,
    'tenants:',
    `  - { id: ${CONTOSO}, name: contoso, permissions: [Alert.Read.All, Machine.Read.All, SecurityAlert.Read.All, ThreatHunting.Read.All], regions: [eu] }`,
    `  - { id: ${FABRIKAM}, name: fabrikam, permissions: [Alert.Read.All, Machine.Read.All, Machine.Isolate], regions: [us] }`,
    `  - { id: ${NORTHWIND}, name: northwind, permissions: [Alert.Read.All, Machine.Read.All] }`,
    'clients:',
    `  - { name: demo, clientId: ${DEMO_CLIENT_ID}, keySha256: ${keyHash(secrets.apiKey)}, tenants: ['*'], permissions: [Alert.Read.All, Machine.Read.All, SecurityAlert.Read.All, ThreatHunting.Read.All] }`,
    '# the OAuth2 token endpoint for unmodified Defender connectors',
    'oauth: { signingKey: {fromFile: oauth-signing-key} }',
    '# customer onboarding pages (/onboarding/{tenant}); each tenant\'s link is on the status page',
    'onboarding: { signingKey: {fromFile: onboarding-signing-key} }',
    ''
  ].join('\n')
}
