import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import t from 'tap'
import { pino } from 'pino'
import { buildFromObject } from '../../src/config/load.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createSharedState, type SharedState } from '../../src/redis/shared-state.js'
import { freePort, launchNode, type RedisNode } from '../redis-nodes.js'
import { createTestCa } from '../sim/ca.js'

/**
 * TLS and ACL users against real redis-server processes: one node, and a Sentinel set whose sentinels
 * require their own password, each reached over TLS with an ACL user, trusting the CA of trust.caFile.
 */
const A = 'aaaaaaaa-7150-4000-8000-000000000001'
const USER_PASSWORD = 'gw-acl-password-0123456789'
const SENTINEL_PASSWORD = 'sentinel-password-0123456789'
const NAME = 'tlsprimary'

t.test('TLS with an ACL user, on one node and through sentinels', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dgw-redis-tls-'))
  const nodes: RedisNode[] = []
  t.teardown(async () => {
    await Promise.all(nodes.map(async (n) => { await n.kill() }))
    await rm(dir, { recursive: true, force: true })
  })
  const ca = await createTestCa()
  const cert = await ca.issueServerCert(['127.0.0.1'])
  await writeFile(join(dir, 'ca.pem'), ca.certPem)
  await writeFile(join(dir, 'server.pem'), cert.certPem)
  await writeFile(join(dir, 'server.key'), cert.keyPem)
  const tls = ['--port', '0', '--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no']
  // The default user is off: only the gateway's ACL user gets in.
  const primary = await launchNode((port) => ['--tls-port', String(port), ...tls, '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    '--user', 'default', 'off', '--user', 'gateway', 'on', `>${USER_PASSWORD}`, '~*', '&*', '+@all'])
  nodes.push(primary)
  const sentinelConf = join(dir, 'sentinel.conf')
  await writeFile(sentinelConf, [`requirepass ${SENTINEL_PASSWORD}`, 'tls-replication yes', `sentinel monitor ${NAME} 127.0.0.1 ${primary.port} 1`,
    `sentinel auth-user ${NAME} gateway`, `sentinel auth-pass ${NAME} ${USER_PASSWORD}`, ''].join('\n'))
  const sentinel = await launchNode((port) => [sentinelConf, '--sentinel', '--tls-port', String(port), ...tls, '--bind', '127.0.0.1', '--dir', dir], '+monitor master')
  nodes.push(sentinel)

  const env = { S: 'x', RK: 'r'.repeat(40), RP: USER_PASSWORD, SP: SENTINEL_PASSWORD, WRONG: 'not-the-password' }
  async function shared (redis: Record<string, unknown>, caFile: string | null = join(dir, 'ca.pem')): Promise<{ state: SharedState, logs: string[], lines: EventEmitter }> {
    const logs: string[] = []
    const lines = new EventEmitter()
    const loaded = buildFromObject({
      identity: { clientId: '0a0b0c0d-1111-4222-8333-444455556666', secret: { fromEnv: 'S' } },
      trust: caFile === null ? {} : { caFile },
      redis: { tokenKey: { fromEnv: 'RK' }, username: 'gateway', password: { fromEnv: 'RP' }, connectTimeoutMs: 1000, ...redis },
      limits: { maxWaitMs: 0, classes: { default: { perMinute: 1 } } }
    }, { source: 'test', baseDir: '/', env })
    const sink = new Writable({ write (chunk: Buffer, _e, cb) { logs.push(chunk.toString('utf8')); lines.emit('line', JSON.parse(chunk.toString('utf8'))); cb() } })
    const state = createSharedState(loaded, { logger: pino({ level: 'debug' }, sink), metrics: createMetrics('test') })
    t.teardown(async () => { await state.close() })
    return { state, logs, lines }
  }
  /** The first warning about Redis being unusable (waits for it: no timing assumed). */
  async function unusable (lines: EventEmitter): Promise<Record<string, unknown>> {
    return await new Promise((resolve) => {
      lines.on('line', function seen (line: Record<string, unknown>) {
        if (line.level !== 40 || typeof line.msg !== 'string' || !line.msg.startsWith('redis unavailable')) return
        lines.off('line', seen)
        resolve(line)
      })
    })
  }

  async function usesRedis (state: SharedState, tenant: string): Promise<boolean> {
    const first = await state.budgets.take(tenant, 'default', 'siem')
    const second = await state.budgets.take(tenant, 'default', 'siem')
    return first.ok && !second.ok && await state.redis?.client.zcard(`dgw:rl:{${tenant}|default}:calls`) === 1
  }

  t.test('one node: rediss:// with the ACL user and the configured CA', async (t) => {
    const { state } = await shared({ url: `rediss://127.0.0.1:${primary.port}` })
    t.equal(await state.whenReady(10_000), true, 'connected')
    t.ok(await usesRedis(state, A), 'budgets in Redis')
  })

  t.test('through the sentinels: TLS to both, the sentinels\' own password, the ACL user on the primary', async (t) => {
    const { state } = await shared({ sentinel: { nodes: [sentinel.address], primaryName: NAME, password: { fromEnv: 'SP' } }, tls: true })
    t.equal(await state.whenReady(10_000), true, 'connected to the primary the sentinel named')
    t.ok(await usesRedis(state, 'aaaaaaaa-7150-4000-8000-000000000002'), 'budgets in Redis')
  })

  t.test('hostile or wrong: no connection, a warning naming the failure class, local answers, no secret in the logs', async (t) => {
    const closed = await freePort()
    const cases: Array<[string, Record<string, unknown>, string | null, string]> = [
      ['a wrong password', { url: `rediss://127.0.0.1:${primary.port}`, password: { fromEnv: 'WRONG' } }, join(dir, 'ca.pem'), 'auth'],
      ['a certificate no configured CA vouches for', { url: `rediss://127.0.0.1:${primary.port}` }, null, 'tls'],
      ['sentinels without their password', { sentinel: { nodes: [sentinel.address], primaryName: NAME }, tls: true }, join(dir, 'ca.pem'), 'auth'],
      ['nothing listening', { url: `redis://127.0.0.1:${closed}` }, null, 'refused']
    ]
    for (const [what, redis, caFile, failure] of cases) {
      const { state, logs, lines } = await shared(redis, caFile)
      const warning = unusable(lines)
      t.equal(await state.whenReady(1500), false, `${what}: not connected`)
      t.match(await warning, { failure, msg: /serving from local state.*readiness stays ready/ }, `${what}: a warning says ${failure}`)
      t.ok((await state.budgets.take('aaaaaaaa-7150-4000-8000-000000000003', 'default', 'siem')).ok, `${what}: answered locally`)
      const text = logs.join('')
      t.notOk(text.includes(USER_PASSWORD) || text.includes(SENTINEL_PASSWORD) || text.includes(env.WRONG), `${what}: no password in the logs`)
    }
  })
})
