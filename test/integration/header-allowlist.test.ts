import t from 'tap'
import { call, startWorld, withKey, TENANT_A, type TestWorld } from '../helper.js'

// Regression (issue 13, item 10): headers were forwarded by a blocklist, so X_HTTP_METHOD_OVERRIDE,
// X-Original-Method, X-Host, Via and Max-Forwards reached Defender. Now only an allowlist goes out,
// even with trustProxy on (the worst case: the gateway trusts what is in front of it).
let world: TestWorld
t.before(async () => {
  world = await startWorld({ config: (base) => ({ ...base, server: { ...base.server, trustProxy: true } }) })
})
t.teardown(async () => { await world.close() })

const HOSTILE = {
  x_http_method_override: 'DELETE',
  'x-http-method-override': 'DELETE',
  'x-http-method': 'DELETE',
  'x-method-override': 'DELETE',
  'x-original-method': 'DELETE',
  'x-original-url': '/api/machines/1/offboard',
  'x-rewrite-url': '/api/machines/1/offboard',
  'x-host': 'evil.example',
  via: '1.1 evil-proxy',
  'max-forwards': '0',
  forwarded: 'for=6.6.6.6;host=evil.example',
  'x-forwarded-for': '6.6.6.6',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'http',
  'x-real-ip': '6.6.6.6',
  cookie: 'session=abc',
  'proxy-authorization': 'Basic eDp5',
  'x-ms-client-principal': 'admin',
  'accept-language': 'tr-TR',
  prefer: 'odata.maxpagesize=1',
  'if-match': '*',
  'x-invented-tomorrow': 'yes'
}

// What Defender may see: the allowlist, our own headers, and what undici adds for the connection.
const ALLOWED = new Set(['accept', 'accept-encoding', 'content-type', 'content-length', 'authorization', 'user-agent', 'x-request-id', 'host', 'connection'])

t.test('only allowlisted request headers reach Defender, for a GET and a POST with a body', async (t) => {
  const eu = world.sim.regions.eu!
  eu.reset()
  const get = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, {
    headers: withKey(world.keys.siem, { ...HOSTILE, accept: 'application/json', 'accept-encoding': 'gzip, zstd' })
  })
  t.equal(get.status, 200)
  const body = '{"Query":"DeviceInfo | take 1"}'
  const post = await call(world.url, `/tenants/${TENANT_A}/api/advancedqueries/run`, {
    method: 'POST',
    headers: withKey(world.keys.siem, { ...HOSTILE, 'content-type': 'application/json; charset=utf-8' }),
    body
  })
  t.equal(post.status, 200)
  t.equal(eu.received.length, 2)
  for (const r of eu.received) {
    const names = Object.keys(r.headers)
    t.same(names.filter((n) => !ALLOWED.has(n)), [], `${r.method}: nothing outside the allowlist arrived`)
    for (const name of Object.keys(HOSTILE)) t.equal(r.headers[name], undefined, `${r.method}: ${name} not forwarded`)
    t.notOk(/evil|6\.6\.6\.6|session=abc/.test(JSON.stringify(r.headers)), `${r.method}: no hostile value under another name`)
    t.match(String(r.headers.authorization), /^Bearer ey/)
  }
  const [g, p] = eu.received
  t.equal(g!.headers.accept, 'application/json')
  t.equal(g!.headers['accept-encoding'], 'gzip', 'codings the rewriter cannot decode are dropped')
  t.equal(p!.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(p!.headers['content-length'], String(Buffer.byteLength(body)), 'length of the body actually sent')
  t.equal(p!.bodyBytes, Buffer.byteLength(body))
})

t.test('a compressed request body is refused with 400, never forwarded', async (t) => {
  const eu = world.sim.regions.eu!
  eu.reset()
  for (const coding of ['gzip', 'br', 'deflate, gzip', 'x-unknown']) {
    const res = await call(world.url, `/tenants/${TENANT_A}/api/advancedqueries/run`, {
      method: 'POST',
      headers: withKey(world.keys.siem, { 'content-type': 'application/json', 'content-encoding': coding }),
      body: '{"Query":"x"}'
    })
    t.equal(res.status, 400, coding)
    t.equal(JSON.parse(res.text).error.code, 'BadRequest', coding)
  }
  t.equal(eu.received.length, 0)
})
