/**
 * `npm run demo`: the gateway against the built-in simulated Entra ID and two simulated Defender
 * regions, loaded from a real YAML config file, until Ctrl-C.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { pino } from 'pino'
import { buildGateway } from '../src/app.js'
import { loadConfigFile } from '../src/config/load.js'
import { keyHash } from '../src/callers/authenticate.js'
import { loggerOptions } from '../src/observability/logger.js'
import { startSimWorld } from '../test/sim/index.js'

const CONTOSO = '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
const FABRIKAM = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e'
const CLIENT_ID = '00000000-0000-4000-8000-0000000000de'
/** the demo client's OAuth2 client id (an unmodified Defender connector sends it as client_id) */
const DEMO_CLIENT_ID = '5e1e0000-aaaa-4bbb-8ccc-0000000000de'

async function freePort (preferred: number): Promise<number> {
  const tryPort = (port: number): Promise<number> => new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : port))
    })
  })
  return await tryPort(preferred).catch(async () => await tryPort(0))
}

async function main (): Promise<void> {
  const secret = randomBytes(24).toString('base64url')
  const key = `demo_${randomBytes(18).toString('base64url')}`
  const signingKey = randomBytes(32).toString('base64url')
  const sim = await startSimWorld({
    clientId: CLIENT_ID,
    clientSecrets: [secret],
    grants: {
      [CONTOSO]: ['Alert.Read.All', 'Machine.Read.All'],
      [FABRIKAM]: ['Alert.Read.All', 'Machine.Read.All', 'Machine.Isolate']
    },
    regions: ['eu', 'us']
  })
  const dir = await mkdtemp(join(tmpdir(), 'defender-gateway-demo-'))
  const port = await freePort(Number(process.env.DEMO_PORT ?? 8080))
  const adminPort = await freePort(9464)
  const configFile = join(dir, 'gateway.yaml')
  await writeFile(configFile, [
    '# demo config written by `npm run demo`',
    `server: { host: 127.0.0.1, port: ${port} }`,
    `admin: { host: 127.0.0.1, port: ${adminPort} }`,
    `identity: { clientId: ${CLIENT_ID}, secret: {fromEnv: DEMO_CLIENT_SECRET}, authorityHost: '${sim.entra.url}' }`,
    `trust: { caFile: '${sim.caFile}' }`,
    `upstream: { region: auto, regions: { eu: '${sim.regions.eu!.url}', us: '${sim.regions.us!.url}' } }`,
    'tenants:',
    `  - { id: ${CONTOSO}, name: contoso, permissions: [Alert.Read.All, Machine.Read.All], regions: [eu] }`,
    `  - { id: ${FABRIKAM}, name: fabrikam, permissions: [Alert.Read.All, Machine.Read.All, Machine.Isolate], regions: [us] }`,
    'clients:',
    `  - { name: demo, clientId: ${DEMO_CLIENT_ID}, keySha256: ${keyHash(key)}, tenants: ['*'], permissions: [Alert.Read.All, Machine.Read.All] }`,
    '# the OAuth2 token endpoint for unmodified Defender connectors',
    'oauth: { signingKey: {fromEnv: DEMO_OAUTH_SIGNING_KEY} }',
    ''
  ].join('\n'))
  const loaded = loadConfigFile(configFile, { DEMO_CLIENT_SECRET: secret, DEMO_OAUTH_SIGNING_KEY: signingKey })
  const logger = pino(loggerOptions(process.env.DEMO_LOG_LEVEL ?? 'warn'))
  const gateway = await buildGateway(loaded, { logger })
  const { url, adminUrl } = await gateway.listen()

  const lines = [
    '',
    'defender-gateway demo is running (simulated Entra ID + Defender regions eu and us).',
    `  gateway ${url}   admin ${adminUrl}   config ${configFile}`,
    '',
    'Try:',
    `  curl -s -H 'X-API-Key: ${key}' '${url}/tenants/contoso/api/alerts?$top=2'`,
    `  curl -s -H 'X-API-Key: ${key}' '${url}/tenants/${FABRIKAM}/api/machines'`,
    `  curl -s -H 'Authorization: Bearer ${key}' '${url}/tenants/contoso/api/alerts?$filter=severity+eq+%27High%27&$top=1'`,
    `  curl -s -H 'X-API-Key: ${key}' -X POST '${url}/tenants/fabrikam/api/machines/x/isolate'   # 403: not in the allowlist`,
    `  curl -s '${url}/tenants/contoso/api/alerts'   # 401: no key`,
    `  curl -s -H 'X-API-Key: ${key}' '${url}/fleet/api/alerts?$top=2'   # fleet read: every tenant, one page, follow @odata.nextLink`,
    `  curl -s '${adminUrl}/metrics' | grep defender_gateway_requests_total`,
    '',
    'As an unmodified Defender connector (OAuth2 client credentials; login host and API host = the gateway):',
    `  TOKEN=$(curl -s -X POST -d grant_type=client_credentials -d client_id=${DEMO_CLIENT_ID} -d client_secret=${key} -d scope=https://api.securitycenter.microsoft.com/.default '${url}/contoso/oauth2/v2.0/token' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${url}/api/alerts?$top=2'`,
    '',
    'Ctrl-C stops it.',
    ''
  ]
  process.stdout.write(lines.join('\n'))

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    process.stdout.write('\nstopping demo...\n')
    gateway.close()
      .then(async () => await sim.close())
      .then(async () => await rm(dir, { recursive: true, force: true }))
      .then(() => process.exit(0), (err: unknown) => {
        process.stderr.write(`demo stopped with an error: ${String(err)}\n`)
        process.exit(1)
      })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
