import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { childEnv } from '../child-env.js'
import { spawnTracked } from '../processes.js'
import { call, TENANT_A } from '../helper.js'
import { pageAll, RESOURCE, SIEM_CLIENT_ID, startOAuthWorld, type OAuthWorld } from '../oauth-helper.js'

const run = promisify(execFile)

/** Runs one Microsoft library in a child that trusts the test CA; resolves with its JSON line. */
async function libraryClient (world: OAuthWorld, kind: string, caFile: string): Promise<{ items: number, pages: number }> {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', 'test/clients/msal-clients.ts', kind, world.url, TENANT_A, SIEM_CLIENT_ID], {
    env: childEnv({ NODE_EXTRA_CA_CERTS: caFile, CLIENT_SECRET: world.keys.siem })
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { err += c.toString() })
  const [code] = await once(child, 'exit')
  if (code !== 0) throw new Error(`${kind} exited ${String(code)}: ${err}`)
  return JSON.parse(out.trim())
}

t.test('unmodified clients page all alerts of a tenant through the gateway', async (t) => {
  const world = await startOAuthWorld({ tls: true })
  t.teardown(async () => { await world.close() })
  const caFile = join(dirname(world.sim.caFile), 'gateway-ca.pem')
  await writeFile(caFile, world.caPem)

  t.test('curl, as Microsoft\'s partner guide writes it (v2, form fields with -d), login host replaced', async (t) => {
    const { stdout } = await run('curl', ['-s', '-X', 'POST', '-H', 'Content-Type:application/x-www-form-urlencoded',
      '-d', 'grant_type=client_credentials', '-d', `client_id=${SIEM_CLIENT_ID}`,
      '-d', 'scope=https://securitycenter.onmicrosoft.com/windowsatpservice/.default', '-d', `client_secret=${world.keys.siem}`,
      `${world.url}/${TENANT_A}/oauth2/v2.0/token`, '--cacert', caFile])
    const token = JSON.parse(stdout).access_token as string
    let next: string | undefined = `${world.url}/api/alerts?$top=9`
    let items = 0
    while (next !== undefined) {
      const page = JSON.parse((await run('curl', ['-s', '-H', `Authorization: Bearer ${token}`, next, '--cacert', caFile])).stdout)
      items += page.value.length
      next = page['@odata.nextLink']
    }
    t.equal(items, 30)
  })

  t.test('the v1 resource flow of the guide\'s PowerShell example, by a plain HTTP client', async (t) => {
    // [Ordered]@{resource; client_id; client_secret; grant_type} sent as name=value pairs
    const body = [['resource', 'https://api.securitycenter.microsoft.com'], ['client_id', SIEM_CLIENT_ID], ['client_secret', world.keys.siem], ['grant_type', 'client_credentials']]
      .map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`).join('&')
    const answer = await call(world.url, `/${TENANT_A}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, ca: world.caPem })
    t.equal(answer.status, 200)
    const { items } = await pageAll(world, '/api/alerts?$top=11', answer.json().access_token)
    t.equal(items.length, 30)
  })

  t.test('@azure/msal-node ConfidentialClientApplication with the gateway as authority', async (t) => {
    t.same(await libraryClient(world, 'msal-node', caFile), { items: 30, pages: 4 })
  })

  t.test('@azure/identity ClientSecretCredential with the gateway as authorityHost', async (t) => {
    t.same(await libraryClient(world, 'identity', caFile), { items: 30, pages: 4 })
  })

  t.test('Elastic-style connector: Go x/oauth2 (Basic first), v1 token URL with resource, then $filter + $expand=evidence', async (t) => {
    // x/oauth2 sorts the form keys and sends credentials as Basic (both halves form-encoded)
    const basic = Buffer.from(`${encodeURIComponent(SIEM_CLIENT_ID)}:${encodeURIComponent(world.keys.siem)}`).toString('base64')
    // Elastic's default login_url ends in '/', its token_url template adds '/{tenant}/': a doubled slash
    const answer = await call(world.url, `//${TENANT_A}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: `grant_type=client_credentials&resource=${encodeURIComponent('https://api.securitycenter.windows.com/')}`,
      ca: world.caPem
    })
    t.equal(answer.status, 200)
    const token = answer.json()
    t.equal(token.resource, 'https://api.securitycenter.windows.com/')
    t.ok(Number(token.expires_in) > 0, 'a numeric string Go reads as json.Number')
    const query = `$filter=${encodeURIComponent('lastUpdateTime gt 2000-01-01T00:00:00Z')}&$expand=evidence&$top=12`
    const { items, links } = await pageAll(world, `/api/alerts?${query}`, token.access_token)
    t.equal(items.length, 30)
    t.ok(items.every((a) => Array.isArray(a.evidence)), 'evidence expanded')
    t.ok(links.every((l) => l.startsWith(`${world.url}/api/alerts?`) && l.includes('$expand=evidence')), 'links keep the query and the layout')
  })

  t.test('no secret or token in the gateway logs', async (t) => {
    t.ok(world.logs.some((l) => l.event === 'token_issued'))
    // world.close() scans every line for the keys and for anything shaped like a JWT
    t.equal(world.sim.entra.tokenRequests() > 0, true, 'the gateway used its own app credential upstream')
    t.notOk(world.rawLogs.some((l) => l.includes(RESOURCE) && l.includes('access_token')))
  })
})
