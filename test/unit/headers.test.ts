import t from 'tap'
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../../src/proxy/headers.js'

const input = { accessToken: 'tenant-token', requestId: 'req-1', userAgent: 'MdatpPartner-DefenderGateway/1.0.0' }

t.test('upstream: caller credentials, cookies, hop-by-hop and routing overrides never go out', async (t) => {
  const out = upstreamRequestHeaders({
    host: 'gw.example',
    authorization: 'Bearer caller-key',
    'x-api-key': 'caller-key',
    cookie: 'a=b',
    connection: 'keep-alive, x-secret',
    'x-secret': 'named by Connection',
    'keep-alive': 'timeout=5',
    te: 'trailers',
    upgrade: 'h2c',
    'proxy-authorization': 'Basic x',
    'x-original-url': '/admin',
    'x-rewrite-url': '/admin',
    'x-http-method-override': 'DELETE',
    forwarded: 'for=1.2.3.4',
    expect: '100-continue',
    'x-forwarded-for': '1.2.3.4',
    'content-type': 'application/json',
    'content-length': '12',
    accept: 'application/json',
    'accept-encoding': 'gzip',
    'user-agent': 'curl/8',
    'x-request-id': 'spoofed'
  }, input)
  t.same(out, {
    'content-type': 'application/json',
    accept: 'application/json',
    'accept-encoding': 'gzip',
    authorization: 'Bearer tenant-token',
    'user-agent': 'MdatpPartner-DefenderGateway/1.0.0',
    'x-request-id': 'req-1'
  })
})

// Regression (issue 13, item 10): a blocklist let X_HTTP_METHOD_OVERRIDE, X-Original-Method, X-Host, Via
// and Max-Forwards reach Defender. Only the allowlist goes out now, whatever the caller invents.
const NEVER_FORWARDED: Array<[string, string]> = [
  ['x-http-method-override', 'DELETE'],
  ['x_http_method_override', 'DELETE'],
  ['x-http-method', 'DELETE'],
  ['x-method-override', 'DELETE'],
  ['x-original-method', 'DELETE'],
  ['x-original-url', '/api/machines/1/offboard'],
  ['x-rewrite-url', '/api/machines/1/offboard'],
  ['x-host', 'evil.example'],
  ['x-forwarded-host', 'evil.example'],
  ['x-forwarded-for', '6.6.6.6'],
  ['x-forwarded-proto', 'http'],
  ['x-forwarded-prefix', '/admin'],
  ['x-real-ip', '6.6.6.6'],
  ['forwarded', 'for=6.6.6.6;host=evil.example'],
  ['via', '1.1 evil'],
  ['max-forwards', '0'],
  ['host', 'evil.example'],
  ['cookie', 'session=abc'],
  ['authorization', 'Bearer caller-key'],
  ['proxy-authorization', 'Basic eDp5'],
  ['x-api-key', 'caller-key'],
  ['x-ms-client-principal', 'admin'],
  ['origin', 'https://evil.example'],
  ['referer', 'https://evil.example/'],
  ['range', 'bytes=0-1'],
  ['if-match', '*'],
  ['prefer', 'odata.maxpagesize=1'],
  ['accept-language', 'tr-TR'],
  ['content-encoding', 'gzip'],
  ['content-length', '5'],
  ['transfer-encoding', 'chunked'],
  ['expect', '100-continue'],
  ['upgrade', 'h2c'],
  ['te', 'trailers'],
  ['user-agent', 'curl/8'],
  ['x-request-id', 'spoofed'],
  ['x-something-new-tomorrow', '1']
]

t.test('upstream: only allowlisted caller headers reach Defender (table)', async (t) => {
  for (const [name, value] of NEVER_FORWARDED) {
    const out = upstreamRequestHeaders({ [name]: value, accept: 'application/json' }, input)
    t.same(Object.keys(out).sort(), ['accept', 'authorization', 'user-agent', 'x-request-id'], name)
    t.notOk(Object.values(out).includes(value), `${name}: its value went nowhere`)
  }
})

t.test('upstream: Accept-Encoding keeps only codings the link rewriter can decode', async (t) => {
  const cases: Array<[string, string | undefined]> = [
    ['gzip, deflate, br', 'gzip, deflate, br'],
    ['br;q=1.0, zstd, gzip;q=0.5', 'br;q=1.0, gzip;q=0.5'],
    ['zstd', undefined],
    ['*', undefined],
    ['identity', 'identity'],
    ['GZIP', 'GZIP']
  ]
  for (const [given, sent] of cases) t.equal(upstreamRequestHeaders({ 'accept-encoding': given }, input)['accept-encoding'], sent, given)
})

t.test('downstream: Set-Cookie and hop-by-hop dropped, our request id set, the rest as Defender sent it', async (t) => {
  const out = downstreamResponseHeaders({
    'Set-Cookie': ['a=b'],
    'set-cookie2': 'x',
    connection: 'close, x-internal',
    'x-internal': 'hop',
    'transfer-encoding': 'chunked',
    'keep-alive': 'timeout=5',
    'content-type': 'application/json',
    'retry-after': '30',
    'x-request-id': 'upstream-id',
    'odata-version': '4.0'
  }, 'req-1')
  t.same(out, { 'content-type': 'application/json', 'retry-after': '30', 'x-request-id': 'req-1', 'odata-version': '4.0' })
})
