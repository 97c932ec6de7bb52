import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestCa } from './ca.js'
import type { TestCa } from './ca.js'
import { startEntra } from './entra.js'
import type { EntraSim } from './entra.js'
import { startDefenderRegion } from './defender.js'
import type { DefenderRegion, DefenderRegionOptions } from './defender.js'
import { startGraph, type GraphSim, type GraphSimOptions } from './graph.js'

export { createTestCa } from './ca.js'
export type { ServerCert, TestCa } from './ca.js'
export { startEntra } from './entra.js'
export type { EntraFault, EntraSim, EntraSimOptions } from './entra.js'
export { startDefenderRegion } from './defender.js'
export type { DefenderFault, DefenderRegion, DefenderRegionOptions, RecordedRequest } from './defender.js'
export type { StreamStats } from './defender-context.js'
export { startGraph } from './graph.js'
export type { GraphFault, GraphSim, GraphSimOptions } from './graph.js'

/** The Microsoft Graph resource the simulated Entra issues Graph tokens for and the Graph simulator accepts. */
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com'

/** A CA, one Entra and several Defender regions, started together and closed together. */
export interface SimWorld {
  ca: TestCa
  caFile: string
  entra: EntraSim
  regions: Record<string, DefenderRegion>
  /** the simulated Microsoft Graph security API (its own HTTPS host) */
  graph: GraphSim
  close (): Promise<void>
}

export interface SimWorldOptions {
  clientId: string
  clientSecrets: string[]
  grants: Record<string, string[]>
  regions?: string[]
  latencyMs?: Record<string, number>
  defender?: Partial<DefenderRegionOptions>
  /** Microsoft Graph roles granted per tenant (the same app's other resource); default none */
  graphGrants?: Record<string, string[]>
  graph?: Partial<Omit<GraphSimOptions, 'ca' | 'entraPublicKeyPem'>>
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
    resourceGrants: { [GRAPH_AUDIENCE]: opts.graphGrants ?? {} },
    ...(opts.defender?.audience !== undefined ? { audience: opts.defender.audience } : {})
  })
  const regions: Record<string, DefenderRegion> = {}
  let graph: GraphSim | undefined
  try {
    graph = await startGraph({ audience: GRAPH_AUDIENCE, ...opts.graph, ca, entraPublicKeyPem: entra.publicKeyPem })
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
    await Promise.all([entra.close(), graph?.close(), ...Object.values(regions).map(async r => await r.close())])
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    ca,
    caFile,
    entra,
    regions,
    graph,
    async close () {
      await Promise.all([entra.close(), graph.close(), ...Object.values(regions).map(async r => await r.close())])
      await rm(dir, { recursive: true, force: true })
    }
  }
}
