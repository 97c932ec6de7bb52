import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { killTracked, spawnTracked, waitForOutput } from './processes.js'
import { baseArgs, launchNode, type RedisNode } from './redis-nodes.js'

/** One line of CLUSTER NODES, as a test needs it. */
export interface ClusterNodeView {
  readonly id: string
  readonly address: string
  readonly primary: boolean
  readonly failed: boolean
  /** the primary a replica follows ('-' for a primary) */
  readonly primaryId: string
  /** slot ranges it serves, inclusive */
  readonly slots: ReadonlyArray<readonly [number, number]>
}

/** A real Redis Cluster of the test's own: 3 primaries, each with a replica, on 127.0.0.1. */
export interface TestCluster {
  readonly nodes: readonly RedisNode[]
  /** `host:port` of every node, as the gateway's redis.cluster.nodes */
  readonly seeds: readonly string[]
  /** CLUSTER NODES as seen by a live node */
  view (): Promise<ClusterNodeView[]>
  /** runs a command on the node at `address`, or on any live node */
  command (address: string | undefined, ...args: string[]): Promise<unknown>
  /** the live primary serving `key` */
  ownerOf (key: string): Promise<ClusterNodeView>
  /** SIGKILLs the primary at `address` (as a crash would) */
  kill (address: string): Promise<void>
  /** resolves once a live node sees every slot served (cluster_state:ok) and `test` holds for its view */
  settled (test?: (view: ClusterNodeView[]) => boolean): Promise<ClusterNodeView[]>
  stop (): Promise<void>
}

/** CLUSTER NODES text → views (address without the cluster bus port). */
export function parseClusterNodes (text: string): ClusterNodeView[] {
  return text.trim().split('\n').map((line) => {
    const [id = '', addr = '', flags = '', primaryId = '', , , , , ...ranges] = line.split(' ')
    const set = new Set(flags.split(','))
    const slots = ranges.filter((r) => /^\d/.test(r)).map((r) => {
      const [from = '', to = from] = r.split('-')
      return [Number(from), Number(to)] as const
    })
    return { id, address: addr.split('@')[0] ?? '', primary: set.has('master'), failed: set.has('fail') || set.has('fail?'), primaryId, slots }
  })
}

/**
 * Starts 6 nodes and joins them with `redis-cli --cluster create` (3 primaries, 1 replica each). A
 * short node timeout makes a failover take seconds; validity factor 0 lets any replica take over.
 */
export async function startRedisCluster (): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'dgw-cluster-'))
  const nodes: RedisNode[] = []
  const admins = new Map<string, Redis>()
  const stop = async (): Promise<void> => {
    for (const admin of admins.values()) admin.disconnect()
    await Promise.all(nodes.map(async (n) => { await n.kill() }))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < 6; i++) {
      nodes.push(await launchNode((port) => [...baseArgs(port, dir), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '2000', '--cluster-replica-validity-factor', '0']))
    }
    await createCluster(nodes.map((n) => n.address))
  } catch (err) {
    await stop()
    throw err
  }
  const admin = (node: RedisNode): Redis => {
    let client = admins.get(node.address)
    if (client === undefined) {
      client = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      client.on('error', () => {})
      admins.set(node.address, client)
    }
    return client
  }
  const live = (): Redis => admin(nodes.find((n) => n.alive()) as RedisNode)
  const view = async (): Promise<ClusterNodeView[]> => parseClusterNodes(await live().call('CLUSTER', 'NODES') as string)
  const cluster: TestCluster = {
    nodes,
    seeds: nodes.map((n) => n.address),
    view,
    async command (address, ...args) {
      const node = address === undefined ? nodes.find((n) => n.alive()) : nodes.find((n) => n.address === address)
      if (node === undefined) throw new Error(`no node ${String(address)}`)
      return await admin(node).call(...args as [string, ...string[]])
    },
    async ownerOf (key) {
      const slot = await live().call('CLUSTER', 'KEYSLOT', key) as number
      const owner = (await view()).find((n) => n.primary && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to))
      if (owner === undefined) throw new Error(`no live primary serves slot ${slot}`)
      return owner
    },
    async kill (address) {
      const node = nodes.find((n) => n.address === address)
      if (node === undefined) throw new Error(`no node ${address}`)
      admins.get(address)?.disconnect()
      admins.delete(address)
      await node.kill()
    },
    async settled (test = () => true) {
      // Bounded: a cluster that never settles fails the test here, with what it last saw.
      let last: ClusterNodeView[] = []
      for (let i = 0; i < 3000; i++) {
        const info = await live().call('CLUSTER', 'INFO') as string
        last = await view()
        if (info.includes('cluster_state:ok') && test(last)) return last
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      throw new Error(`cluster did not settle: ${JSON.stringify(last)}`)
    },
    stop
  }
  await cluster.settled((v) => v.filter((n) => n.primary).length === 3 && v.every((n) => !n.failed))
  await Promise.all(nodes.map(async (n) => { await replicaInSync(admin(n)) }))
  return cluster
}

/** Resolves once a replica has finished its first sync (a primary resolves at once); bounded. */
export async function replicaInSync (client: Redis): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const info = await client.info('replication')
    if (info.includes('role:master') || info.includes('master_link_status:up')) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('replica never synced')
}

async function createCluster (addresses: string[]): Promise<void> {
  const child = spawnTracked('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'])
  let output = ''
  child.stdout?.on('data', (c: Buffer) => { output += c.toString('utf8') })
  child.stderr?.on('data', (c: Buffer) => { output += c.toString('utf8') })
  try {
    await waitForOutput(child, () => output, (text) => text.includes('All 16384 slots covered'), 'redis-cli --cluster create', 60_000)
  } finally {
    await killTracked(child)
  }
}
