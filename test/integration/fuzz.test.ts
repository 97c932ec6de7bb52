import t from 'tap'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { ROUTES } from '../../src/policy/catalogue-data.js'
import { createMatcher } from '../../src/policy/match.js'
import { call, startWorld, withKey, TENANT_A, TENANT_B, type TestWorld } from '../helper.js'

const COUNT = 10_000

/** Small seeded PRNG (mulberry32): the same hostile requests every run, so a failure reproduces. */
function prng (seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(20261128)
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T

const BASES = [
  '/api/alerts', '/api/alerts/da1', '/api/alerts/da1/machine', '/api/machines', '/api/machines/abc/alerts',
  "/api/machines/findbyip(ip='10.1.2.3',timestamp=2024-01-01T00:00:00Z)", '/api/machineactions/x/GetLiveResponseResultDownloadLink(index=0)',
  '/api/machines/abc/isolate', '/api/indicators', '/api/advancedqueries/run', '/api/Software/microsoft-_-edge', '/api', '/api/$metadata',
  '/api/machines/SoftwareInventoryByMachine', '/api/libraryfiles/script.ps1', '/api/users/bob/machines'
]
const INSERTS = ['..', '.', '%2e%2e', '%2E', '.%2e', '%2f', '%2F', '%5c', '\\', '%00', '%0a', '%25', '%252f', '', '#', ';x=1',
  '%c3%a9', 'é', '%zz', '$count', 'v1.0', '..%2f', '%2e%2e%2f', '%u002e', 'a'.repeat(3000), '%20', '*', ':', '@', '"', '<', '{x}']
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE', 'GeT']
const TENANTS = [TENANT_A, TENANT_A, TENANT_A.toUpperCase(), 'contoso', 'CONTOSO', TENANT_B, 'fabrikam', '..', '%2e%2e', 'x'.repeat(70), '*', '']

function mutatePath (): string {
  const segments = pick(BASES).split('/').slice(1)
  // Two in five paths stay well formed, so allowed requests reach Defender and the oracle has work.
  for (let n = random() < 0.4 ? 0 : 1 + Math.floor(random() * 3); n > 0; n--) {
    const at = Math.floor(random() * (segments.length + 1))
    const insert = pick(INSERTS)
    if (random() < 0.5) segments.splice(at, 0, insert)
    else segments[Math.min(at, segments.length - 1)] += insert
  }
  if (random() < 0.2) segments[0] = segments[0]!.toUpperCase()
  const query = random() < 0.5 ? pick(['?$top=1', '?%24top=1&$filter=a+eq+%27b%27', '?$expand=evidence#frag', '?x=%00', '?' + 'q'.repeat(9000)]) : ''
  return `/tenants/${pick(TENANTS)}/${segments.join('/')}${query}`
}

function headers (key: string, id: string): Record<string, string> {
  const h: Record<string, string> = { 'x-request-id': id }
  const roll = random()
  if (roll < 0.85) h['x-api-key'] = key
  else if (roll < 0.9) h.authorization = `Bearer ${key}`
  else if (roll < 0.95) h['x-api-key'] = key + 'x'
  if (random() < 0.2) h['x-original-url'] = pick(['/api/machines', '/admin', '/tenants/x/api/machines'])
  if (random() < 0.1) h['x-rewrite-url'] = '/api/machines/abc/offboard'
  if (random() < 0.1) h['x-http-method-override'] = 'DELETE'
  if (random() < 0.1) h['x-forwarded-host'] = 'evil.example'
  if (random() < 0.05) h.host = 'evil.example'
  return h
}

let world: TestWorld
t.before(async () => { world = await startWorld({ sim: { defender: { ratePerMinute: 10_000_000 } } }) })
t.teardown(async () => { await world.close() })

t.test(`${COUNT} hostile requests: no 5xx, the process stays up, Defender sees only what the catalogue allows`, async (t) => {
  const clients = { narrow: { key: world.keys.narrow, permissions: new Set(['Alert.Read.All']), tenants: new Set([TENANT_A]) }, siem: { key: world.keys.siem, permissions: new Set(['Alert.Read.All', 'Machine.Read.All', 'AdvancedQuery.Read.All', 'Ti.ReadWrite', 'Software.Read.All']), tenants: new Set([TENANT_A, TENANT_B]) } }
  const sentBy = new Map<string, keyof typeof clients>()
  const statuses = new Map<number, number>()
  const clientErrors: string[] = []
  const url = new URL(world.url)
  const agent = new Agent({ keepAlive: true, maxSockets: 8 })
  let next = 0
  const one = async (i: number): Promise<void> => {
    const who = random() < 0.7 ? 'narrow' : 'siem'
    const id = `fuzz-${i}`
    sentBy.set(id, who)
    const method = pick(METHODS)
    const path = mutatePath()
    const status = await new Promise<number>((resolve) => {
      try {
        const req = httpRequest({ host: url.hostname, port: url.port, method, path, agent, headers: headers(clients[who].key, id) }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
          res.on('error', () => resolve(-1))
        })
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (clientErrors.length < 5) clientErrors.push(`${method} ${path.slice(0, 80)}: ${err.code ?? err.message}`)
          resolve(-1)
        })
        req.end(method === 'POST' || method === 'PATCH' ? '{"Comment":"fuzz"}' : undefined)
      } catch {
        resolve(-2) // the client library itself refused the request (e.g. illegal characters)
      }
    })
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
  }
  await Promise.all(Array.from({ length: 8 }, async () => { while (next < COUNT) await one(next++) }))
  agent.destroy()
  // A few request lines only a raw socket can send.
  for (const line of ['GET  /tenants/x/api/alerts HTTP/1.1', 'GET /tenants/%/api/alerts HTTP/1.1', 'GET http://x/tenants/a/api/alerts HTTP/1.1', 'G\u0000T / HTTP/1.1', 'GET /tenants/a/api/alerts HTTP/9.9']) {
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.end(`${line}\r\nHost: x\r\nX-API-Key: ${world.keys.siem}\r\nConnection: close\r\n\r\n`))
      let out = ''
      socket.on('data', (c: Buffer) => { out += c.toString() })
      socket.on('close', () => resolve(out))
      socket.on('error', () => resolve(out))
    })
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    t.ok(status >= 400 && status < 500, `raw ${JSON.stringify(line)} → ${status}`)
  }
  t.comment(`sent ${COUNT} generated requests + 5 raw ones; statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`)
  if (clientErrors.length > 0) t.comment(`client-side errors (connection closed after a 400 from the HTTP parser): ${clientErrors.join(' | ')}`)
  const serverErrors = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0)
  t.equal(serverErrors, 0, 'no 5xx')

  const match = createMatcher(ROUTES)
  const all = Object.values(world.sim.regions).flatMap((r) => r.received)
  // Region probes: unauthenticated GET /api, nothing else, never with a token.
  const probes = all.filter((r) => r.headers.authorization === undefined)
  t.ok(probes.every((r) => r.method === 'GET' && r.url === '/api'), 'requests without a token are only region probes')
  const received = all.filter((r) => r.headers.authorization !== undefined)
  t.ok(received.length > 100, `${received.length} requests were forwarded, so the oracle below checks something`)
  let violations = 0
  for (const r of received) {
    const who = sentBy.get(String(r.headers['x-request-id']))
    const client = who === undefined ? undefined : clients[who]
    const path = r.url.split('?')[0]!
    // A trailing slash names the same resource (Defender's routing ignores it, as the gateway does).
    const segments = path.replace(/\/$/, '').split('/').slice(2).map((s) => { try { return decodeURIComponent(s) } catch { return '\u0000' } })
    const route = match(r.method === 'HEAD' ? 'GET' : r.method, segments)
    const allowed = client !== undefined && route !== undefined && r.tenant !== undefined && client.tenants.has(r.tenant) &&
      route.permissions.some((p) => client.permissions.has(p)) && !/(^|\/)\.\.?(\/|$)|%2f|%5c|\\|#/i.test(path)
    if (!allowed) {
      violations++
      t.fail(`Defender received ${r.method} ${r.url} for ${who ?? 'nobody'} (tenant ${r.tenant ?? '?'})`)
    }
    if (r.headers['x-original-url'] !== undefined || r.headers['x-rewrite-url'] !== undefined || r.headers['x-api-key'] !== undefined) {
      violations++
      t.fail(`forbidden header reached Defender on ${r.url}`)
    }
  }
  t.equal(violations, 0, `all ${received.length} forwarded requests were allowed for their client`)
  const after = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem) })
  t.equal(after.status, 200, 'the gateway still serves normally')
})
