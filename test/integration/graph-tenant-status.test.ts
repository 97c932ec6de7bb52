import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { startSimWorld } from '../sim/index.js'
import { ALL_ROLES, CLIENT_ID, CLIENT_SECRET, TENANT_A } from '../helper.js'
import { runCli } from '../operations-helper.js'

// Consent is per resource: tenant-status asks each API for its own token and reports per API.
t.test('tenant-status reports granted and missing permissions per API', async (t) => {
  const sim = await startSimWorld({ clientId: CLIENT_ID, clientSecrets: [CLIENT_SECRET], grants: { [TENANT_A]: ALL_ROLES }, graphGrants: { [TENANT_A]: ['SecurityAlert.Read.All'] }, regions: ['eu'] })
  const dir = await mkdtemp(join(tmpdir(), 'gw-graph-cli-'))
  t.teardown(async () => { await sim.close(); await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'gateway.yaml')
  await writeFile(file, stringify({
    identity: { clientId: CLIENT_ID, secret: { fromEnv: 'GW_SECRET' }, authorityHost: sim.entra.url },
    trust: { caFile: sim.caFile },
    upstream: { regions: { eu: sim.regions.eu!.url } },
    graph: { url: sim.graph.url },
    tenants: [{ id: TENANT_A, name: 'contoso', permissions: ['Alert.Read.All', 'SecurityAlert.Read.All', 'ThreatHunting.Read.All'] }]
  }))
  const result = await runCli(['tenant-status', 'contoso', '--config', file], { GW_SECRET: CLIENT_SECRET })
  t.equal(result.code, 3, `exit 3: a Graph permission is missing\n${result.stdout}${result.stderr}`)
  const [defender, graph] = result.stdout.split('Microsoft Graph security API')
  t.match(defender, 'granted:    Alert.Read.All')
  t.match(defender, 'missing:    (none)', 'the Defender token grants what is configured for Defender')
  t.match(graph, 'granted:    SecurityAlert.Read.All')
  t.match(graph, 'missing:    ThreatHunting.Read.All', 'the Graph token lacks the hunting role')
  t.notOk(result.stdout.includes('eyJ') || result.stdout.includes(CLIENT_SECRET), 'no token or secret printed')
})
