import t from 'tap'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { stringify } from 'yaml'
import { CLIENT_SECRET, TENANT_A } from '../helper.js'
import { startGatewayProcess, startOpsWorld } from '../operations-helper.js'

/**
 * Regression (issue 13, item 12): a SIGHUP that removed clients or tenants logged only the new counts,
 * so a half-written file that still parsed went unnoticed. The reload line now names what was added,
 * removed and changed (names only: no key, no hash), as a warning when something was removed.
 */

const sha = (key: string): string => createHash('sha256').update(key).digest('hex')

// Starts gateway processes (each compiles the sources with tsx): on a busy 2-CPU machine that alone can
// take most of tap's default 120 s, so this file gets a wider bound (a bound, not a measured speed).
t.setTimeout(300_000)

t.test('SIGHUP logs which clients and tenants were added, removed and changed, by name only', async (t) => {
  const ops = await startOpsWorld()
  t.teardown(async () => { await ops.close() })
  const file = await ops.writeConfig()
  const gw = await startGatewayProcess(file, { GW_SECRET: CLIENT_SECRET })
  t.teardown(async () => { await gw.stop() })
  const base = ops.config()
  const rotated = 'rotated-siem-key-0123456789abcdef'
  const soar = 'soar-client-key-0123456789abcdef'
  const next = {
    ...base,
    // siem gets a new key, soar is new, woodgrove is gone
    clients: [{ ...base.clients[0], keySha256: sha(rotated) }, { name: 'soar', keySha256: sha(soar), tenants: ['contoso'], permissions: ['Alert.Read.All'] }],
    tenants: base.tenants.filter((x: { id: string }) => x.id === TENANT_A)
  }
  await writeFile(file, stringify(next))
  gw.child.kill('SIGHUP')
  const reloadLine = (): Record<string, any> | undefined => gw.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
    .find((l) => typeof l.msg === 'string' && l.msg.startsWith('config reloaded'))
  await gw.waitFor(() => reloadLine() !== undefined, 'the reload line')
  const line = reloadLine()
  t.match(line, {
    level: 40,
    msg: /removed woodgrove/,
    clients: { added: ['soar'], removed: [], changed: ['siem'] },
    tenants: { added: [], removed: ['woodgrove'], changed: [] },
    extraRoutes: { added: [], removed: [], changed: [] }
  }, 'a warning naming each addition, removal and change')
  const output = gw.output()
  for (const secret of [rotated, soar, sha(rotated), sha(soar), sha(ops.key), CLIENT_SECRET]) t.notOk(output.includes(secret), 'no key or key hash in the output')
})
