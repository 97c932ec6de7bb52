import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestCa } from './ca.js'
import type { TestCa } from './ca.js'
import { startEntra } from './entra.js'
import type { EntraSim } from './entra.js'
import { startDefenderRegion } from './defender.js'
import type { DefenderRegion, DefenderRegionOptions } from './defender.js'

export { createTestCa } from './ca.js'
export type { ServerCert, TestCa } from './ca.js'
export { startEntra } from './entra.js'
export type { EntraFault, EntraSim, EntraSimOptions } from './entra.js'
export { startDefenderRegion } from './defender.js'
export type { DefenderFault, DefenderRegion, DefenderRegionOptions, RecordedRequest } from './defender.js'
export type { StreamStats } from './defender-context.js'

/** A CA, one Entra and several Defender regions, started together and closed together. */
export interface SimWorld {
  ca: TestCa
  caFile: string
  entra: EntraSim
  regions: Record<string, DefenderRegion>
  close (): Promise<void>
}

export interface SimWorldOptions {
  clientId: string
  clientSecrets: string[]
  grants: Record<string, string[]>
  regions?: string[]
  latencyMs?: Record<string, number>
  defender?: Partial<DefenderRegionOptions>
}

/** Starts the whole simulated world; the CA PEM is also written to a temp file (caFile). */
export async function startSimWorld (opts: SimWorldOptions): Promise<SimWorld> {
  const ca = await createTestCa()
  const dir = await mkdtemp(join(tmpdir(), 'defender-sim-'))
  const caFile = join(dir, 'ca.pem')
  await writeFile(caFile, ca.certPem)
  const entra = await startEntra({
    ca,
    clientId: opts.clientId,
    clientSecrets: opts.clientSecrets,
    grants: opts.grants,
    ...(opts.defender?.audience !== undefined ? { audience: opts.defender.audience } : {})
  })
  const regions: Record<string, DefenderRegion> = {}
  try {
    for (const name of opts.regions ?? ['eu', 'us']) {
      regions[name] = await startDefenderRegion({
        ...opts.defender,
        name,
        ca,
        entraPublicKeyPem: entra.publicKeyPem,
        latencyMs: opts.latencyMs?.[name] ?? opts.defender?.latencyMs ?? 0
      })
    }
  } catch (err) {
    await Promise.all([entra.close(), ...Object.values(regions).map(async r => await r.close())])
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    ca,
    caFile,
    entra,
    regions,
    async close () {
      await Promise.all([entra.close(), ...Object.values(regions).map(async r => await r.close())])
      await rm(dir, { recursive: true, force: true })
    }
  }
}
