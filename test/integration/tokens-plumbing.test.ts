import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { LogLevel } from '@azure/msal-node'
import { pino, type Logger } from 'pino'
import t from 'tap'
import { buildFromObject } from '../../src/config/load.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { msalLogger } from '../../src/tokens/msal-source.js'
import { createNetworkClient } from '../../src/tokens/network-client.js'
import { createGatewayTokens } from '../../src/tokens/wiring.js'
import { createTestCa } from '../sim/index.js'
import { fakeSource } from '../unit/token-fakes.js'

// The small pieces around msal: the network client's parsing, msal's log lines, and the wiring's expiry logs.
function capture (): { logger: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l)); cb() } })
  return { logger: pino({ level: 'info' }, sink), lines }
}

t.test('network client: JSON, empty and non-JSON bodies, string headers only, GET, untrusted CA', async (t) => {
  const ca = await createTestCa()
  const { keyPem, certPem } = await ca.issueServerCert()
  const server = createServer({ key: keyPem, cert: certPem }, (req, res) => {
    if (req.url === '/json') res.writeHead(200, { 'set-cookie': ['a=1', 'b=2'], 'retry-after': '3' }).end('{"ok":true}')
    else if (req.url === '/empty') res.writeHead(200).end()
    else res.writeHead(502, { 'content-type': 'text/html' }).end('<html>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = createNetworkClient({ caPem: ca.certPem, timeoutMs: 2000 })
  t.teardown(() => client.close())
  const json = await client.sendPostRequestAsync<{ ok: boolean }>(`${base}/json`, { body: 'x=1', headers: {} })
  t.same(json.body, { ok: true })
  t.equal(json.headers['retry-after'], '3')
  t.notOk('set-cookie' in json.headers, 'list-valued headers are left out')
  t.same((await client.sendGetRequestAsync(`${base}/empty`)).body, {})
  t.match((await client.sendGetRequestAsync(`${base}/html`, undefined, 1000)).body, { error: 'non_json_response', error_description: 'HTTP 502 with a non-JSON body' })
  const untrusting = createNetworkClient({ timeoutMs: 2000 })
  t.teardown(() => untrusting.close())
  await t.rejects(untrusting.sendGetRequestAsync(`${base}/json`), 'the test CA is not trusted without caPem')
})

t.test('network client: a kept-alive socket closed under a request is retried once on a new one; a fresh one is not', async (t) => {
  const ca = await createTestCa()
  const { keyPem, certPem } = await ca.issueServerCert()
  let seen = 0
  let fresh = false
  // The second request on a connection finds it closed, as when the server's idle timeout races our write.
  const server = createServer({ key: keyPem, cert: certPem }, (req, res) => {
    seen++
    const onSocket = req.socket as unknown as { served?: number }
    onSocket.served = (onSocket.served ?? 0) + 1
    if (fresh || onSocket.served === 2) { req.socket.destroy(); return }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"n":' + seen + '}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = createNetworkClient({ caPem: ca.certPem, timeoutMs: 2000 })
  t.teardown(() => client.close())
  t.same((await client.sendPostRequestAsync(`${base}/token`, { body: 'x=1', headers: {} })).body, { n: 1 })
  t.same((await client.sendPostRequestAsync(`${base}/token`, { body: 'x=1', headers: {} })).body, { n: 3 }, 'answered on a new socket')
  t.equal(seen, 3, 'sent twice: once into the closing socket, once more')
  fresh = true
  client.close()
  const again = createNetworkClient({ caPem: ca.certPem, timeoutMs: 2000 })
  t.teardown(() => again.close())
  await t.rejects(again.sendPostRequestAsync(`${base}/token`, { body: 'x=1', headers: {} }), 'a new socket that fails is an error, not a retry')
  t.equal(seen, 4)
})

t.test('msal log lines: errors and warnings forwarded, personal data and client-info noise dropped', async (t) => {
  const { logger, lines } = capture()
  const callback = msalLogger(logger)!.loggerCallback!
  callback(LogLevel.Error, 'broken', false)
  callback(LogLevel.Warning, 'odd', false)
  callback(LogLevel.Warning, 'has tenant and user', true)
  callback(LogLevel.Warning, 'No client info in response', false)
  t.same(lines.map((l) => [l.level, l.msal]), [[50, 'broken'], [40, 'odd']])
})

t.test('wiring: an expired credential is logged as an error at start; close stops the watch and the source', async (t) => {
  const loaded = buildFromObject({
    identity: {
      clientId: '0a0b0c0d-1111-4222-8333-444455556666',
      credentials: [{ name: 'old', secret: { fromEnv: 'S' }, expiresOn: '2020-01-01' }]
    },
    tokens: { refreshAheadSeconds: 0 }
  }, { source: 'test', baseDir: process.cwd(), env: { S: 'x' } })
  const { logger, lines } = capture()
  const source = fakeSource({ now: Date.now() })
  const { tokens, authorityHost } = createGatewayTokens({ loaded, metrics: createMetrics('test'), logger, tokenSource: source })
  t.equal(authorityHost, 'https://login.microsoftonline.com')
  t.match(lines.find((l) => l.credential === 'old'), { level: 50, msg: 'app credential has expired; Entra ID will refuse it' })
  const tenant = '11111111-1111-4111-8111-111111111111'
  t.equal((await tokens.get(tenant, 'r')).tid, tenant)
  t.equal((await tokens.refresh(tenant, 'r')).tid, tenant)
  tokens.purge(tenant)
  tokens.close()
  t.ok(source.closed)
})
