import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { replicaInSync } from './redis-cluster.js'
import { baseArgs, launchNode, type RedisNode } from './redis-nodes.js'

/** The primary name the test sentinels monitor (redis.sentinel.primaryName). */
export const PRIMARY_NAME = 'dgwprimary'

/** A primary, one replica and three sentinels (quorum 2) of the test's own, on 127.0.0.1. */
export interface TestSentinels {
  readonly primary: RedisNode
  readonly replica: RedisNode
  readonly sentinels: readonly RedisNode[]
  /** `host:port` of each sentinel, as the gateway's redis.sentinel.nodes */
  readonly seeds: readonly string[]
  /** a direct connection to the current primary (reconnects through the sentinels) */
  readonly client: Redis
  /**
   * Subscribes to +switch-master on every sentinel; `switched` resolves with the new primary's
   * `host:port` when the first announces it. Subscribe before the kill so the event cannot be missed.
   */
  switchMaster (): Promise<{ readonly switched: Promise<string> }>
  stop (): Promise<void>
}

/**
 * Starts the set and waits until every sentinel knows the replica and the two other sentinels (they
 * find each other through hello messages on the primary), so a failover has its quorum and majority.
 */
export async function startSentinels (): Promise<TestSentinels> {
  const dir = await mkdtemp(join(tmpdir(), 'dgw-sentinel-'))
  const started: RedisNode[] = []
  const clients: Redis[] = []
  const stop = async (): Promise<void> => {
    for (const c of clients) c.disconnect()
    await Promise.all(started.map(async (n) => { await n.kill() }))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const primary = await launchNode((port) => baseArgs(port, dir))
    started.push(primary)
    const replica = await launchNode((port) => [...baseArgs(port, dir), '--replicaof', '127.0.0.1', String(primary.port)])
    started.push(replica)
    const direct = (port: number): Redis => {
      const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null })
      c.on('error', () => {})
      clients.push(c)
      return c
    }
    await replicaInSync(direct(replica.port))
    const sentinels: RedisNode[] = []
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `sentinel-${i}.conf`)
      // Sentinel rewrites its config file, so each needs a writable one of its own.
      await writeFile(file, [`sentinel monitor ${PRIMARY_NAME} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${PRIMARY_NAME} 1000`, `sentinel failover-timeout ${PRIMARY_NAME} 10000`, ''].join('\n'))
      const node = await launchNode((port) => [file, '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], '+monitor master')
      started.push(node)
      sentinels.push(node)
    }
    await Promise.all(sentinels.map(async (s) => { await acquainted(direct(s.port)) }))
    const client = new Redis({ sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: PRIMARY_NAME, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    clients.push(client)
    return {
      primary,
      replica,
      sentinels,
      seeds: sentinels.map((s) => s.address),
      client,
      async switchMaster () {
        const subscribers = sentinels.map((s) => direct(s.port))
        const switched = new Promise<string>((resolve) => {
          for (const sub of subscribers) {
            sub.on('message', (_channel: string, message: string) => {
              // "<name> <old-ip> <old-port> <new-ip> <new-port>"
              const [name, , , ip, port] = message.split(' ')
              if (name === PRIMARY_NAME) resolve(`${ip ?? ''}:${port ?? ''}`)
            })
          }
        })
        await Promise.all(subscribers.map(async (sub) => await sub.subscribe('+switch-master')))
        return { switched }
      },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Bounded wait until a sentinel sees the replica and both other sentinels. */
async function acquainted (sentinel: Redis): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const replicas = await sentinel.call('SENTINEL', 'REPLICAS', PRIMARY_NAME) as string[][]
    const others = await sentinel.call('SENTINEL', 'SENTINELS', PRIMARY_NAME) as unknown[]
    if (replicas.length === 1 && others.length === 2) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('sentinels did not find each other')
}
