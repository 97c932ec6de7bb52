import t from 'tap'
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../../src/proxy/headers.js'

const input = { accessToken: 'tenant-token', requestId: 'req-1', userAgent: 'MdatpPartner-DefenderGateway/1.0.0', trustProxy: false }

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
    'content-length': '12',
    accept: 'application/json',
    'accept-encoding': 'gzip',
    authorization: 'Bearer tenant-token',
    'user-agent': 'MdatpPartner-DefenderGateway/1.0.0',
    'x-request-id': 'req-1'
  })
})

t.test('upstream: X-Forwarded-* only with trustProxy; chunked bodies keep no length', async (t) => {
  t.equal(upstreamRequestHeaders({ 'x-forwarded-for': '1.2.3.4' }, { ...input, trustProxy: true })['x-forwarded-for'], '1.2.3.4')
  t.equal(upstreamRequestHeaders({ 'transfer-encoding': 'chunked', 'content-length': '5' }, input)['content-length'], undefined)
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
