import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { keyHash } from '../src/callers/authenticate.js'
import { buildFromObject, type LoadedConfig } from '../src/config/load.js'
import { call, startWorld, withKey, ADMIN_TOKEN, CLIENT_SECRET, type Answer, type TestWorld } from './helper.js'

/** 50 tenants: even ones pinned to eu, odd ones free (us preferred, eu to fail over to), one pinned to us. */
export const FLEET_SIZE = 50
export const fleetTenant = (i: number): string => `f1ee7${String(i).padStart(3, '0')}-0000-4000-8000-000000000000`
export const NOT_ONBOARDED = fleetTenant(7)
export const THROTTLED = fleetTenant(14)
export const MANY_PAGES = fleetTenant(20)
export const US_ONLY = fleetTenant(31)
export const ALERTS = 12
export const MANY_ALERTS = 40

/** The items each tenant holds in the simulators (the one not onboarded holds none the gateway can read). */
export function expectedCounts (): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i < FLEET_SIZE; i++) {
    const id = fleetTenant(i)
    if (id !== NOT_ONBOARDED) counts.set(id, id === MANY_PAGES ? MANY_ALERTS : ALERTS)
  }
  return counts
}

export interface FleetWorld extends TestWorld {
  /** client allowed only tenants 0-2 */
  readonly threeKey: string
  /** the CA the gateway's HTTPS listener is signed by */
  readonly ca: string
  /** the world's config, changed by `mutate`, as a reload would load it */
  configWith (mutate: (raw: Record<string, any>) => Record<string, any>): LoadedConfig
}

/** A gateway on HTTPS (the Graph SDK follows https links only) over 50 simulated tenants in two regions. */
export async function startFleetWorld (fleet: Record<string, unknown> = {}): Promise<FleetWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-world-'))
  const threeKey = `gk_${randomBytes(24).toString('base64url')}`
  const grants: Record<string, string[]> = {}
  for (let i = 0; i < FLEET_SIZE; i++) if (fleetTenant(i) !== NOT_ONBOARDED) grants[fleetTenant(i)] = ['Alert.Read.All', 'Machine.Read.All']
  let ca = ''
  let raw: Record<string, any> = {}
  const world = await startWorld({
    grants,
    sim: { latencyMs: { eu: 20, us: 0 }, defender: { alertsPerTenant: ALERTS, ratePerMinute: 1_000_000 } },
    rttMs: { us: 1, eu: 1000 },
    beforeGateway: async (sim) => {
      const cert = await sim.ca.issueServerCert()
      ca = sim.ca.certPem
      await writeFile(join(dir, 'gw.crt'), cert.certPem)
      await writeFile(join(dir, 'gw.key'), cert.keyPem)
      await writeFile(join(dir, 'oauth.key'), randomBytes(32).toString('base64'))
      sim.regions.eu!.setAlertCount(MANY_PAGES, MANY_ALERTS)
      sim.regions.us!.setAlertCount(MANY_PAGES, MANY_ALERTS)
    },
    config: (base) => (raw = {
      ...base,
      server: { ...base.server, tls: { certFile: join(dir, 'gw.crt'), keyFile: join(dir, 'gw.key') } },
      fleet: { concurrency: 8, pageTimeoutMs: 3000, maxTenantReads: 8, ...fleet },
      oauth: { signingKey: { fromFile: join(dir, 'oauth.key') } },
      tenants: Array.from({ length: FLEET_SIZE }, (_, i) => ({
        id: fleetTenant(i),
        name: `fleet-${i}`,
        permissions: ['Alert.Read.All', 'Machine.Read.All'],
        ...(fleetTenant(i) === US_ONLY ? { regions: ['us'] } : i % 2 === 0 ? { regions: ['eu'] } : {})
      })),
      clients: [
        ...base.clients.filter((c: { name: string }) => c.name !== 'narrow'),
        { name: 'three', keySha256: keyHash(threeKey), tenants: [fleetTenant(0), fleetTenant(1), fleetTenant(2)], permissions: ['Alert.Read.All'] }
      ]
    })
  })
  return {
    ...world,
    threeKey,
    ca,
    configWith (mutate) {
      return buildFromObject(mutate(structuredClone(raw)), { source: 'test', baseDir: process.cwd(), env: { GW_TEST_SECRET: CLIENT_SECRET, GW_TEST_ADMIN: ADMIN_TOKEN } })
    },
    async close () {
      try { await world.close() } finally { await rm(dir, { recursive: true, force: true }) }
    }
  }
}

/** GET over HTTPS trusting the world's CA; `path` is sent as given. */
export async function fleetGet (w: FleetWorld, path: string, key: string, headers: Record<string, string> = {}): Promise<Answer> {
  return await call(w.url, path, { headers: withKey(key, headers), ca: w.ca })
}
