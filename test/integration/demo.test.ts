import t from 'tap'
import { childEnv } from '../child-env.js'
import { killTracked, spawnTracked, waitForOutput } from '../processes.js'
import { once } from 'node:events'
import { call } from '../helper.js'

// Runs `npm run demo`'s script as a user would, runs the curl lines it prints, then Ctrl-C.
t.test('the demo prints working curl lines and stops cleanly on SIGINT', async (t) => {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    env: childEnv({ DEMO_PORT: '0' }),
    group: true
  })
  t.teardown(async () => { await killTracked(child) })
  let out = ''
  child.stdout!.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { out += c.toString() })
  await waitForOutput(child, () => out, (text) => text.includes('Ctrl-C stops it.'), 'the demo start')
  t.match(out, 'Ctrl-C stops it.', 'demo started')
  const curls = out.split('\n').filter((l) => l.trim().startsWith('curl -s -H'))
  t.ok(curls.length >= 4, 'prints curl lines with the demo key')
  const expected = [200, 200, 200, 403]
  for (const [i, line] of curls.slice(0, 4).entries()) {
    const header = /-H '([^:]+): ([^']+)'/.exec(line)!
    const url = new URL(/'(http[^']+)'/.exec(line)![1]!)
    const method = line.includes('-X POST') ? 'POST' : 'GET'
    const res = await call(url.origin, url.pathname + url.search, { method, headers: { [header[1]!]: header[2]! } })
    t.equal(res.status, expected[i], line)
  }
  // The Graph line: the same tenant through the Microsoft Graph security API.
  const graphLine = curls.find((l) => l.includes('/graph/v1.0/security/alerts_v2'))!
  const graphUrl = new URL(/'(http[^']+)'/.exec(graphLine)![1]!)
  const graphAlerts = await call(graphUrl.origin, graphUrl.pathname + graphUrl.search, { headers: { 'x-api-key': /-H 'X-API-Key: ([^']+)'/.exec(graphLine)![1]! } })
  t.equal(graphAlerts.status, 200, graphLine)
  t.equal(graphAlerts.json().value.length, 2)
  // The two-step OAuth2 flow it prints: the token request as written, then Defender's own /api layout.
  const tokenLine = out.split('\n').find((l) => l.includes('/oauth2/v2.0/token'))!
  const fields = [...tokenLine.matchAll(/-d ([a-z_]+)=(\S+)/g)].map((m) => `${m[1]!}=${m[2]!}`).join('&')
  const tokenUrl = new URL(/'(http[^']+\/token)'/.exec(tokenLine)![1]!)
  const issued = await call(tokenUrl.origin, tokenUrl.pathname, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields })
  t.equal(issued.status, 200, 'step 1: token')
  const apiLine = out.split('\n').find((l) => l.includes('Bearer $TOKEN'))!
  const apiUrl = new URL(/'(http[^']+)'/.exec(apiLine)![1]!)
  const alerts = await call(apiUrl.origin, apiUrl.pathname + apiUrl.search, { headers: { authorization: `Bearer ${issued.json().access_token as string}` } })
  t.equal(alerts.status, 200, 'step 2: /api/alerts with the token')
  const exited = once(child, 'exit')
  child.kill('SIGINT')
  const [code] = await exited
  t.equal(code, 0, 'exit code 0 after Ctrl-C')
})
