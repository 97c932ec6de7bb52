import { subscribe } from 'node:diagnostics_channel'
import { pino } from 'pino'
import { buildGateway } from '../src/app.js'
import { buildFromObject } from '../src/config/load.js'
import { logDestination, loggerOptions } from '../src/observability/logger.js'
import { announce, receiveInit } from './worker.js'

/** What the parent sends: a config object as test/helper.ts builds it, and the secret it refers to. */
export interface GatewayInit {
  readonly config: Record<string, unknown>
  readonly env: Record<string, string>
  /** where the info-level JSON logs go (a file, or /dev/null) */
  readonly logFile: string
}

/** Counters the parent reads around each run. */
export type GatewayStats = {
  /** connections undici (the proxy's client) has opened so far: each one is a TLS handshake upstream */
  readonly upstreamConnections: number
}

/** Memory after full collections (answer to `gc`); collections run only when node has --expose-gc. */
export type GatewayMemory = {
  readonly gcExposed: boolean
  readonly rss: number
  readonly heapTotal: number
  readonly heapUsed: number
  readonly external: number
  readonly arrayBuffers: number
}

/** What this process reports back once listening. */
export interface GatewayReady {
  readonly type: 'ready'
  readonly url: string
  readonly adminUrl: string
}

async function main (): Promise<void> {
  const init = await receiveInit<GatewayInit>()
  let upstreamConnections = 0
  subscribe('undici:client:connected', () => { upstreamConnections++ })
  const loaded = buildFromObject(init.config, { source: 'bench', baseDir: process.cwd(), env: init.env })
  // The destination src/server.ts logs to (buffered synchronous writes), here to a file or /dev/null.
  const logger = pino(loggerOptions('info'), logDestination(init.logFile))
  const gateway = await buildGateway(loaded, { logger })
  const { url, adminUrl } = await gateway.listen()
  const ready: Omit<GatewayReady, 'type'> = { url, adminUrl }
  const stats: () => GatewayStats = () => ({ upstreamConnections })
  announce(ready, async () => { await gateway.close() }, { stats, gc: settledMemory })
}

/** Runs a few full collections when exposed (bench/tenant-requests.ts passes --expose-gc), then reads memory. */
function settledMemory (): GatewayMemory {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) for (let i = 0; i < 4; i++) gc()
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { gcExposed: gc !== undefined, rss, heapTotal, heapUsed, external, arrayBuffers }
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: String(err) })
  process.exitCode = 1
})
