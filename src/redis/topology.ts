import type { RedisConfig } from '../config/schema.js'

/** A Redis node's address. */
export interface HostPort { readonly host: string, readonly port: number }

/** Where the shared state lives: one node, a Sentinel-managed primary, or a Redis Cluster. */
export type RedisTopology =
  | { readonly kind: 'standalone', readonly url: string }
  | { readonly kind: 'sentinel', readonly nodes: readonly HostPort[], readonly primaryName: string, readonly username?: string | undefined, readonly password?: { reveal (): string } | undefined }
  | { readonly kind: 'cluster', readonly nodes: readonly HostPort[] }

/** 'host:port' or '[v6]:port' (validated by the schema) → its parts. */
export function parseHostPort (value: string): HostPort {
  const at = value.lastIndexOf(':')
  const host = value.slice(0, at)
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(value.slice(at + 1)) }
}

/** The topology a validated `redis` section describes (validation guarantees exactly one is set). */
export function topologyOf (redis: RedisConfig, sentinelPassword?: { reveal (): string }): RedisTopology {
  if (redis.sentinel !== undefined) {
    const { nodes, primaryName, username } = redis.sentinel
    return { kind: 'sentinel', nodes: nodes.map(parseHostPort), primaryName, username, password: sentinelPassword }
  }
  if (redis.cluster !== undefined) return { kind: 'cluster', nodes: redis.cluster.nodes.map(parseHostPort) }
  return { kind: 'standalone', url: redis.url as string }
}

/** Whether connections use TLS: rediss:// for one node, `redis.tls` for the others. */
export function usesTls (topology: RedisTopology, tls: boolean | undefined): boolean {
  return topology.kind === 'standalone' ? topology.url.startsWith('rediss:') : tls === true
}

/** For logs: where Redis is, never a credential. */
export function describeTopology (topology: RedisTopology): string {
  const list = (nodes: readonly HostPort[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',')
  switch (topology.kind) {
    case 'standalone': {
      const parsed = new URL(topology.url)
      parsed.username = ''
      parsed.password = ''
      return parsed.toString()
    }
    case 'sentinel': return `sentinel ${topology.primaryName} via ${list(topology.nodes)}`
    case 'cluster': return `cluster via ${list(topology.nodes)}`
  }
}

/**
 * How many failovers a change of the primaries' addresses shows: a primary that went away and a new
 * one in its place. A node added (scale-out) or the first connection is not one.
 */
export function failoversBetween (before: ReadonlySet<string>, after: ReadonlySet<string>): number {
  if (before.size === 0) return 0
  const added = [...after].filter((a) => !before.has(a)).length
  const gone = [...before].filter((b) => !after.has(b)).length
  return Math.min(added, gone)
}
