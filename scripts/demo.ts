/**
 * `npm run demo`: the gateway against the built-in simulated Entra ID and two simulated Defender
 * regions, loaded from a real YAML config file, over HTTPS with a CA of its own, until Ctrl-C. It prints
 * working curl and CLI lines (the test runs every one of them).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { pino } from 'pino'
import { buildGateway } from '../src/app.js'
import { loadConfigFile } from '../src/config/load.js'
import { loggerOptions } from '../src/observability/logger.js'
import { startSimWorld } from '../test/sim/index.js'
import { CLIENT_ID, CONTOSO, FABRIKAM, newSecrets, writeDemoFiles } from './demo-files.js'
import { demoLines } from './demo-lines.js'

const ALERTS_PER_TENANT = 250

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
  const secrets = newSecrets()
  const sim = await startSimWorld({
    clientId: CLIENT_ID,
    clientSecrets: [secrets.clientSecret],
    grants: {
      [CONTOSO]: ['Alert.Read.All', 'Machine.Read.All'],
      [FABRIKAM]: ['Alert.Read.All', 'Machine.Read.All', 'Machine.Isolate']
    },
    regions: ['eu', 'us'],
    // Enough to page through with $top, as a SIEM connector does.
    defender: { alertsPerTenant: ALERTS_PER_TENANT },
    graphGrants: { [CONTOSO]: ['SecurityAlert.Read.All', 'ThreatHunting.Read.All'] }
  })
  const dir = await mkdtemp(join(tmpdir(), 'defender-gateway-demo-'))
  const ports = { api: await freePort(Number(process.env.DEMO_PORT ?? 8443)), admin: await freePort(Number(process.env.DEMO_ADMIN_PORT ?? 9464)) }
  const files = await writeDemoFiles(dir, sim, secrets, ports)
  const loaded = loadConfigFile(files.configFile, {})
  const logger = pino(loggerOptions(process.env.DEMO_LOG_LEVEL ?? 'warn'))
  const gateway = await buildGateway(loaded, { logger })
  const { url, adminUrl } = await gateway.listen()
  // The redirect URI a real app registration lists; the simulated consent page redirects nowhere else.
  sim.entra.consent.registerRedirectUri(`${url}/onboarding/callback`)
  process.stdout.write(demoLines({ url, adminUrl, dir, ...files, secrets }).join('\n'))

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
