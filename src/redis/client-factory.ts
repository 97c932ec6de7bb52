import { createRequire } from 'node:module'
import type { Cluster, Redis } from 'ioredis'
import { outboundTlsContext } from '../trust.js'
import type { RedisTopology } from './topology.js'

/** The ioredis client of either kind: the commands the stores use are the same on both. */
export type RedisClient = Redis | Cluster

export interface ClientOptions {
  readonly topology: RedisTopology
  readonly tls: boolean
  readonly username?: string | undefined
  readonly password?: { reveal (): string } | undefined
  /** extra CA (trust.caFile), added to the system roots */
  readonly caPem?: string | undefined
  readonly commandTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly retryStrategy: (attempt: number) => number
}

// Loaded on first use: a gateway without redis never pays ioredis's ~6 MB of memory.
const loadIoredis = (): typeof import('ioredis') => createRequire(import.meta.url)('ioredis') as typeof import('ioredis')

/** Builds the client for the topology; it connects in the background. */
export function createRedisClient (options: ClientOptions): RedisClient {
  const { topology } = options
  // trust.caFile adds a CA to the system roots (as for Entra ID and Defender), never replaces them.
  const tls = options.tls ? { secureContext: outboundTlsContext(options.caPem) } : undefined
  const node = {
    username: options.username,
    password: options.password?.reveal(),
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    // Fail at once instead of retrying or queueing: the caller has a local answer.
    maxRetriesPerRequest: 0,
    ...(tls === undefined ? {} : { tls })
  }
  const io = loadIoredis()
  switch (topology.kind) {
    case 'standalone':
      return new io.Redis(topology.url, { ...node, enableOfflineQueue: false, retryStrategy: options.retryStrategy })
    case 'sentinel':
      return new io.Redis({
        ...node,
        sentinels: topology.nodes.map((n) => ({ host: n.host, port: n.port })),
        name: topology.primaryName,
        sentinelUsername: topology.username,
        sentinelPassword: topology.password?.reveal(),
        ...(tls === undefined ? {} : { enableTLSForSentinelMode: true, sentinelTLS: tls }),
        // Sentinel's +switch-master moves the connection to the new primary at once, before the old one's socket times out.
        failoverDetector: true,
        sentinelCommandTimeout: options.connectTimeoutMs,
        enableOfflineQueue: false,
        retryStrategy: options.retryStrategy
      })
    case 'cluster':
      return new io.Cluster(topology.nodes.map((n) => ({ host: n.host, port: n.port })), {
        redisOptions: node,
        enableOfflineQueue: false,
        clusterRetryStrategy: options.retryStrategy,
        // A lost primary fails its calls at once (the breaker answers locally and its probe re-reads the slots) rather than retrying them.
        retryDelayOnFailover: 0,
        retryDelayOnClusterDown: 0,
        slotsRefreshTimeout: options.connectTimeoutMs,
        // With TLS, keep host names as given so certificates issued to them verify (managed caches).
        ...(tls === undefined ? {} : { dnsLookup: (address: string, callback: (err: null, address: string) => void) => { callback(null, address) } })
      })
  }
}
