import t from 'tap'
import { createHash } from 'node:crypto'
import { Agent, request } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { call, findSecrets, CLIENT_SECRET, TENANT_A, TENANT_C } from '../helper.js'
import { runCli, startGatewayProcess, startOpsWorld, type OpsWorld } from '../operations-helper.js'

let ops: OpsWorld
t.before(async () => { ops = await startOpsWorld() })
t.teardown(async () => { await ops.close() })
const env = (): Record<string, string> => ({ GW_SECRET: CLIENT_SECRET })

t.test('keygen prints a high-entropy key once and the hash to put in config', async (t) => {
  const { code, stdout } = await runCli(['keygen', '--client', 'splunk'])
  t.equal(code, 0)
  const key = /^\s+(dgw_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1]
  t.ok(key, 'a dgw_ key with 256 bits')
  const hash = /keySha256: ([0-9a-f]{64})/.exec(stdout)?.[1]
  t.equal(hash, createHash('sha256').update(key!).digest('hex'))
  t.match(stdout, '{ name: splunk,')
  t.equal((await runCli(['keygen'])).code, 2, 'usage error without --client')
})

t.test('check-config and consent-url', async (t) => {
  const file = await ops.writeConfig()
  const ok = await runCli(['check-config', file], env())
  t.equal(ok.code, 0)
  t.match(ok.stdout, 'ok (2 tenants, 1 clients')
  const badFile = join(ops.dir, 'bad.yaml')
  await writeFile(badFile, 'identity: { clientId: nope }\nextra: 1\n')
  const bad = await runCli(['check-config', badFile], env())
  t.equal(bad.code, 1)
  t.match(bad.stderr, 'identity.clientId')
  t.match(bad.stderr, '(root): Unrecognized key')
  const url = await runCli(['consent-url', 'woodgrove', '--config', file], env())
  t.equal(url.code, 0)
  t.equal(url.stdout.trim(), `${ops.sim.entra.url}/${TENANT_C}/adminconsent?client_id=0a0b0c0d-1111-4222-8333-444455556666`)
  t.equal((await runCli(['frobnicate'])).code, 2)
})

t.test('tenant-status shows configured vs granted permissions', async (t) => {
  const file = await ops.writeConfig()
  const gap = await runCli(['tenant-status', 'woodgrove', '--config', file], env())
  t.equal(gap.code, 3, 'exit 3: consent missing')
  t.match(gap.stdout, 'granted:    Alert.Read.All')
  t.match(gap.stdout, 'missing:    Machine.Isolate')
  t.match(gap.stdout, 'adminconsent')
  const fine = await runCli(['tenant-status', TENANT_A, '--config', file], env())
  t.equal(fine.code, 0)
  t.match(fine.stdout, 'missing:    (none)')
  t.notOk(fine.stdout.includes(CLIENT_SECRET) || gap.stdout.includes('eyJ'), 'no secret or token printed')
  const unknown = await runCli(['tenant-status', '99999999-9999-4999-8999-999999999999', '--config', file], env())
  t.equal(unknown.code, 1, 'a tenant that is not in the config is refused before any token request')
  t.match(unknown.stderr, /is not in .*configured: contoso, woodgrove/)
})

t.test('SIGTERM under load: readiness fails first, every request sent meanwhile succeeds, then the process exits', async (t) => {
  // The drain delay is what a load balancer gets to notice readiness failing; the poller below can be
  // slow on a busy machine, so it gets seconds, not the 300 ms the other tests use.
  const gw = await startGatewayProcess(await ops.writeConfig({ server: { host: '127.0.0.1', port: 0, drainDelayMs: 3000 } }), env())
  t.teardown(async () => { await gw.stop() })
  const url = new URL(gw.url)
  const agent = new Agent({ keepAlive: true, maxSockets: 8 })
  // Plays the load balancer: routes while /readyz says ready, polling it every 50 ms.
  const lb = { routing: true }
  let signalledAt = 0
  let afterSignal = 0
  const poller = (async () => {
    while (lb.routing) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      const ready = await call(gw.adminUrl, '/readyz').catch(() => ({ status: 0 }))
      if (ready.status !== 200) lb.routing = false
    }
  })()
  let ok = 0
  const failures: string[] = []
  const loop = async (): Promise<void> => {
    for (let i = 0; i < 5000 && lb.routing; i++) {
      const result = await new Promise<string>((resolve) => {
        const req = request({ host: url.hostname, port: url.port, path: `/tenants/${TENANT_A}/api/alerts?$top=1`, agent, headers: { 'x-api-key': ops.key } }, (res) => {
          res.resume()
          res.on('end', () => resolve(String(res.statusCode)))
        })
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
        req.end()
      })
      if (result === '200') ok++
      else failures.push(result)
      if (failures.length > 20) return
      if (signalledAt > 0) afterSignal++
      if (ok === 200 && signalledAt === 0) {
        signalledAt = Date.now()
        gw.child.kill('SIGTERM')
      }
    }
  }
  await Promise.all(Array.from({ length: 4 }, loop))
  await poller
  agent.destroy()
  t.equal(await gw.exited, 0, 'exit code 0 after the drain')
  t.same(failures, [], 'no request failed or was cut off')
  t.ok(afterSignal > 0, `${afterSignal} requests were sent after SIGTERM and before the load balancer saw readiness fail; all answered`)
  t.match(gw.output(), 'draining')
  t.same(findSecrets(gw.output().split('\n'), [CLIENT_SECRET, ops.key]), [], 'no secret, key or token in the process output')
  const refused = await call(gw.url, `/tenants/${TENANT_A}/api/alerts`).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code)
  t.equal(refused, 'ECONNREFUSED', 'nothing listens afterwards')
})

t.test('SIGHUP reloads clients and tenants without a restart; an invalid reload keeps the old config', async (t) => {
  const file = await ops.writeConfig()
  const gw = await startGatewayProcess(file, env())
  t.teardown(async () => { await gw.stop() })
  const newKey = 'second-client-key-abcdef0123456789'
  const alerts = async (key: string): Promise<number> => (await call(gw.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: { 'x-api-key': key } })).status
  t.equal(await alerts(newKey), 401, 'unknown before the reload')
  const base = ops.config()
  await writeFile(file, (await import('yaml')).stringify({ ...base, clients: [...base.clients, { name: 'soar', keySha256: createHash('sha256').update(newKey).digest('hex'), tenants: ['contoso'], permissions: ['Alert.Read.All'] }] }))
  gw.child.kill('SIGHUP')
  await gw.waitFor((out) => out.includes('config reloaded'), 'the reload')
  t.equal(await alerts(newKey), 200, 'the new client works after SIGHUP')
  t.equal(await alerts(ops.key), 200, 'the old one still does')
  await writeFile(file, 'identity: { clientId: broken }\nclients: 7\n')
  gw.child.kill('SIGHUP')
  await gw.waitFor((out) => out.includes('reload rejected'), 'the rejected reload')
  t.match(gw.output(), 'reload rejected')
  t.match(gw.output(), 'identity.clientId')
  t.match(gw.output(), 'clients')
  t.equal(await alerts(newKey), 200, 'the last good config stays in force')
  t.equal(gw.child.pid !== undefined && gw.child.exitCode, null, 'same process, never restarted')
  t.same(findSecrets(gw.output().split('\n'), [CLIENT_SECRET, ops.key, newKey]), [], 'no secret, key or token in the process output')
})
