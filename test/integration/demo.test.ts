import t from 'tap'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { childEnv } from '../child-env.js'
import { killTracked, spawnTracked, waitForOutput } from '../processes.js'
import { bash, type Finished } from '../shell.js'

// Runs `npm run demo`'s script as a user would, runs every curl and CLI line it prints exactly as
// printed (with bash, real curl against its HTTPS listener and its CA), then Ctrl-C.
t.setTimeout(300_000)

/** The same line with curl also printing the status on a last line of its own. */
const withStatus = (line: string): string => line.replace('curl -s ', "curl -s -w '\\n%{http_code}' ")
const statusOf = (res: Finished): string => res.out.trimEnd().split('\n').at(-1) ?? ''
const expected = (line: string): string => /# (\d{3})/.exec(line)?.[1] ?? '200'

t.test('the demo prints working curl and CLI lines and stops cleanly on Ctrl-C', async (t) => {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    env: childEnv({ DEMO_PORT: '0', DEMO_ADMIN_PORT: '0' }),
    group: true
  })
  t.teardown(async () => { await killTracked(child) })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { out += c.toString() })
  await waitForOutput(child, () => out, (text) => text.includes('Ctrl-C stops it.'), 'the demo start')
  const lines = out.split('\n').map((l) => l.trim())
  const url = /gateway\s+(https:\/\/\S+)/.exec(out)?.[1] ?? ''
  const adminUrl = /admin\s+(http:\/\/\S+)/.exec(out)?.[1] ?? ''
  const dir = /config\s+(\S+)\/gateway\.yaml/.exec(out)?.[1] ?? ''
  t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/, 'serves HTTPS')
  t.match(out, /admin token\s+admin_\S+/, 'prints the admin token it set')
  t.ok(lines.includes(`Status page: ${adminUrl}/status   (sign in with the admin token)`), 'prints the status page URL')

  const curls = lines.filter((l) => l.startsWith('curl '))
  t.ok(curls.length >= 10, `${curls.length} curl lines`)
  for (const line of curls.filter((l) => !l.includes('|') && !l.includes('$TOKEN'))) {
    if (line.includes(url)) t.match(line, `--cacert ${dir}/ca.pem`, 'lines to the HTTPS listener carry --cacert')
    const res = await bash(withStatus(line))
    t.equal(res.code, 0, `${line}: curl exit 0 (${res.err.trim()})`)
    t.equal(statusOf(res), expected(line), line)
    if (line.includes('/fleet/')) {
      // A fleet page is 200 with the tenants that answered; the one that has not consented is in its report.
      const report = (JSON.parse(res.out.slice(0, res.out.lastIndexOf('}') + 1)) as { '@gateway.fleet': { failed: Array<{ tenantId: string, error: { code: string } }> } })['@gateway.fleet']
      t.same(report.failed.map((f) => [f.tenantId, f.error.code]), [['7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'TenantNotOnboarded']], 'fleet: northwind reported, not fatal')
    } else if (expected(line) === '200') t.notMatch(res.out, '"error"', `${line}: not an error`)
  }

  // Paging: page 1 carries a nextLink on the gateway itself, which works with the same key.
  const pageLine = curls.find((l) => l.includes('$top=100'))!
  const paged = await bash(pageLine)
  t.equal(paged.code, 0, 'grep found the nextLink')
  const next = /"@odata\.nextLink":"([^"]+)"/.exec(paged.out)?.[1] ?? ''
  t.ok(next.startsWith(`${url}/tenants/contoso/api/alerts?`), `nextLink on the gateway: ${next}`)
  const key = /X-API-Key: ([^']+)'/.exec(pageLine)![1]!
  const page2 = await bash(`curl -s --cacert ${dir}/ca.pem -H 'X-API-Key: ${key}' '${next}'`)
  t.equal((JSON.parse(page2.out) as { value: unknown[] }).value.length, 100, 'page 2 has 100 alerts')
  const metrics = await bash(curls.find((l) => l.includes('/metrics'))!)
  t.match(metrics.out, /^defender_gateway_requests_total\{/m, 'the metrics line shows the requests')

  // The connector's two steps run together, as a user pastes them.
  const tokenLine = lines.find((l) => l.startsWith('TOKEN=$('))!
  const apiLine = curls.find((l) => l.includes('$TOKEN'))!
  const connector = await bash(`${tokenLine}\n${withStatus(apiLine)}`)
  t.equal(statusOf(connector), '200', 'token from the gateway, then /api/alerts with it')

  const cli = lines.filter((l) => l.startsWith('npm run -s cli'))
  t.equal(cli.length, 5, 'five CLI lines')
  const ran = new Map<string, Finished>()
  for (const line of cli) {
    const res = await bash(line)
    ran.set(line.split('   #')[0]!.split(' --config')[0]!, res)
    t.equal(res.code, Number(/# exit (\d)/.exec(line)?.[1] ?? 0), `${line}: exit code (${res.err.trim()})`)
  }
  const output = (start: string): string => { const res = ran.get(start); return res === undefined ? '' : res.out + res.err }
  t.match(output('npm run -s cli -- tenant-status contoso'), 'token ok', 'tenant-status gets a token with the client secret the demo knows')
  t.match(output('npm run -s cli -- tenant-status contoso'), 'missing:    (none)')
  t.match(output('npm run -s cli -- tenant-status northwind'), 'not-onboarded', 'northwind: not consented')
  t.match(output('npm run -s cli -- consent-url northwind'), '/7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f/adminconsent?client_id=', 'its consent link')
  t.match(output(`npm run -s cli -- check-config ${dir}/gateway.yaml`), 'gateway.yaml: ok (3 tenants, 1 clients')
  t.match(output('npm run -s cli -- --help'), 'usage: defender-gateway')

  const exited = once(child, 'exit')
  child.kill('SIGINT')
  const [code] = await exited
  t.equal(code, 0, 'exit code 0 after Ctrl-C')
  t.notOk(existsSync(dir), 'its folder, secrets included, is gone')
})
