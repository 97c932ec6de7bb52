import t from 'tap'
import { isHostPort, linkBase, type LinkBaseOptions } from '../../src/proxy/link-base.js'

const plain: LinkBaseOptions = { trustProxy: false, tls: false, listenHost: '0.0.0.0' }
const conn = { localAddress: '::ffff:10.1.2.3', localPort: 8080 }

// Whatever a caller puts in Host (or X-Forwarded-* without trustProxy), the base comes from the listener.
const hostileHosts = ['', 'evil.example', 'a@evil.example', 'evil.example/x', 'evil .example', 'evil.example\r\nX-A: b', 'x'.repeat(5000), '[::1', 'evil.example:99999']

t.test('without publicUrl or trustProxy the base is the listener, never Host or X-Forwarded-*', async (t) => {
  for (const host of [undefined, ...hostileHosts]) {
    const headers = { host, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }
    t.equal(linkBase(plain, { headers, ...conn }), 'http://10.1.2.3:8080', JSON.stringify(host ?? '(none)').slice(0, 40))
  }
})

t.test('the listener address, always well-formed', async (t) => {
  t.equal(linkBase(plain, { headers: {}, localAddress: '::1', localPort: 8080 }), 'http://[::1]:8080')
  t.equal(linkBase(plain, { headers: {}, localAddress: '127.0.0.1', localPort: 80 }), 'http://127.0.0.1')
  t.equal(linkBase({ ...plain, tls: true }, { headers: {}, localAddress: '127.0.0.1', localPort: 443 }), 'https://127.0.0.1')
  t.equal(linkBase({ ...plain, listenHost: 'gw.internal' }, { headers: {}, ...conn }), 'http://gw.internal:8080')
  t.equal(linkBase({ ...plain, listenHost: '::' }, { headers: {}, ...conn }), 'http://10.1.2.3:8080')
  t.equal(linkBase(plain, { headers: {} }), 'http://127.0.0.1', 'no socket address (a socket already gone)')
})

t.test('publicUrl wins over everything', async (t) => {
  const options = { ...plain, trustProxy: true, publicUrl: 'https://gw.example.com/base/' }
  t.equal(linkBase(options, { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' }, ...conn }), 'https://gw.example.com/base')
})

t.test('with trustProxy: a well-formed X-Forwarded-Host (the nearest proxy\'s), else the listener', async (t) => {
  const trusting = { ...plain, trustProxy: true }
  const base = (headers: Record<string, string | string[]>): string => linkBase(trusting, { headers, ...conn })
  t.equal(base({ 'x-forwarded-host': 'GW.example.com', 'x-forwarded-proto': 'https' }), 'https://gw.example.com')
  t.equal(base({ 'x-forwarded-host': 'gw.example.com:8443' }), 'http://gw.example.com:8443')
  t.equal(base({ 'x-forwarded-host': 'client-says.example, gw.example.com', 'x-forwarded-proto': 'http, https' }), 'https://gw.example.com')
  t.equal(base({ 'x-forwarded-host': ['client-says.example', 'gw.example.com'] }), 'http://gw.example.com')
  t.equal(base({ 'x-forwarded-host': 'gw.example.com', 'x-forwarded-proto': 'javascript' }), 'http://gw.example.com', 'an odd proto is ignored')
  for (const host of hostileHosts.filter((h) => h !== 'evil.example')) t.equal(base({ host: 'evil.example', 'x-forwarded-host': host }), 'http://10.1.2.3:8080', `refused: ${JSON.stringify(host).slice(0, 40)}`)
})

t.test('host[:port] syntax', async (t) => {
  for (const ok of ['a', 'gw.example.com', 'gw-1.example.com:1', '10.0.0.1:65535', '[::1]:8443', '[2001:db8::1]']) t.ok(isHostPort(ok), ok)
  for (const bad of ['', '-a.com', 'a-.com', 'a..b', 'a.com.', 'a.com:0', 'a.com:65536', 'a.com:', 'a_b.com', 'a.com/x', 'u@a.com', 'a.com?', 'a.com#', 'ä.com', `${'a'.repeat(64)}.com`, 'a.com:80:80']) t.notOk(isHostPort(bad), bad)
})
