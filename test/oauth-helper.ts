import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { SignJWT } from 'jose'
import { buildFromObject, type LoadedConfig } from '../src/config/load.js'
import { createKeyRing } from '../src/gateway-tokens/index.js'
import { keyFingerprint } from '../src/gateway-tokens/keys.js'
import { Secret } from '../src/config/secret.js'
import { call, startWorld, ADMIN_TOKEN, CLIENT_SECRET, type Answer, type TestWorld, type WorldOptions } from './helper.js'

/** The clientId (a GUID, as connectors insist on) of the world's `siem` client. */
export const SIEM_CLIENT_ID = '5e1e0000-aaaa-4bbb-8ccc-0123456789ab'
export const NARROW_CLIENT_ID = '5e1e0000-aaaa-4bbb-8ccc-00000000000e'
export const RESOURCE = 'https://api.securitycenter.microsoft.com'

export interface OAuthWorld extends TestWorld {
  /** the HS256 signing key in force, for tests that forge tokens on purpose */
  readonly signingKey: string
  /** the CA PEM the gateway's TLS certificate chains to (when started with tls) */
  readonly caPem: string
  /** the world's config, changed by `mutate`, as a reload would load it */
  configWith (mutate: (raw: Record<string, any>) => Record<string, any>): LoadedConfig
}

export interface OAuthWorldOptions extends WorldOptions {
  /** serve the API listener over HTTPS (msal-node and @azure/identity refuse http authorities) */
  readonly tls?: boolean
  readonly oauth?: Record<string, unknown>
}

/** A world with the token endpoint on: signing key in a file, clientIds on `siem` and `narrow`. */
export async function startOAuthWorld (options: OAuthWorldOptions = {}): Promise<OAuthWorld> {
  const signingKey = randomBytes(32).toString('base64url')
  let raw: Record<string, any> = {}
  let keyFile = ''
  const world = await startWorld({
    ...options,
    async beforeGateway (sim) {
      const dir = dirname(sim.caFile)
      keyFile = join(dir, 'oauth-signing.key')
      await writeFile(keyFile, signingKey)
      if (options.tls === true) {
        const cert = await sim.ca.issueServerCert()
        await writeFile(join(dir, 'gw-cert.pem'), cert.certPem)
        await writeFile(join(dir, 'gw-key.pem'), cert.keyPem)
      }
      await options.beforeGateway?.(sim)
    },
    config (base, sim) {
      const dir = dirname(sim.caFile)
      const clients = base.clients.map((c: Record<string, unknown>) => c.name === 'siem'
        ? { ...c, clientId: SIEM_CLIENT_ID }
        : c.name === 'narrow' ? { ...c, clientId: NARROW_CLIENT_ID } : c)
      const server = options.tls === true ? { ...base.server, tls: { certFile: join(dir, 'gw-cert.pem'), keyFile: join(dir, 'gw-key.pem') } } : base.server
      const withOAuth = { ...base, server, clients, oauth: { signingKey: { fromFile: keyFile }, ...options.oauth } }
      raw = options.config === undefined ? withOAuth : options.config(withOAuth, sim)
      return raw
    }
  })
  return {
    ...world,
    close: world.close,
    signingKey,
    caPem: world.sim.ca.certPem,
    configWith (mutate) {
      return buildFromObject(mutate(structuredClone(raw)), { source: 'test', baseDir: process.cwd(), env: { GW_TEST_SECRET: CLIENT_SECRET, GW_TEST_ADMIN: ADMIN_TOKEN } })
    }
  }
}

/** A form POST to the token endpoint, exactly as a plain HTTP client sends one. */
export async function postForm (world: OAuthWorld, path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
  return await call(world.url, path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    ca: world.caPem
  })
}

/** A v2 token for `siem` in `tenant`, via the endpoint (the happy path every hostile test starts from). */
export async function siemToken (world: OAuthWorld, tenant: string): Promise<string> {
  const answer = await postForm(world, `/${tenant}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: `${RESOURCE}/.default`
  })
  if (answer.status !== 200) throw new Error(`token endpoint answered ${answer.status}: ${answer.text}`)
  return answer.json().access_token as string
}

/** Signs arbitrary claims with the world's key (or another): the forger's tool in hostile tests. */
export async function forge (key: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const ring = createKeyRing([new Secret(key)])
  return await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: ring.signing.kid, ...header }).sign(ring.signing.bytes)
}

/** The `kfp` a token for a client with this keySha256 carries under `key`. */
export function fingerprintFor (key: string, keySha256: string): string {
  return keyFingerprint(createKeyRing([new Secret(key)]).signing, keySha256)
}

/** A bearer GET on the world's API listener. */
export async function bearerGet (world: OAuthWorld, path: string, token: string): Promise<Answer> {
  return await call(world.url, path, { headers: { authorization: `Bearer ${token}` }, ca: world.caPem })
}

/** Requests Defender received for its API (region probes aside). */
export function forwardedCount (world: TestWorld): number {
  return Object.values(world.sim.regions).reduce((n, r) => n + r.received.filter((q) => q.headers['user-agent'] !== 'defender-gateway-probe').length, 0)
}

/** Follows `@odata.nextLink` from `path` to the last page with a bearer token; returns items and links. */
export async function pageAll (world: OAuthWorld, path: string, token: string): Promise<{ items: Array<Record<string, unknown>>, links: string[] }> {
  const items: Array<Record<string, unknown>> = []
  const links: string[] = []
  let next: string | undefined = path
  for (let i = 0; next !== undefined && i < 100; i++) {
    const answer = await bearerGet(world, next, token)
    if (answer.status !== 200) throw new Error(`page ${i} answered ${answer.status}: ${answer.text}`)
    const body = answer.json()
    items.push(...body.value)
    const link: string | undefined = body['@odata.nextLink']
    if (link !== undefined) links.push(link)
    next = link === undefined ? undefined : link.slice(world.url.length)
  }
  return { items, links }
}
