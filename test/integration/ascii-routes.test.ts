import { connect } from 'node:net'
import t from 'tap'
import { call, startWorld, withKey, TENANT_A, type TestWorld } from '../helper.js'

// Regression: Unicode case folding in route literals (issue 13 item 11). Non-ASCII where a route has a
// literal, or a value that folds into a sibling literal, is refused with 400 before anything leaves.

let world: TestWorld
t.before(async () => { world = await startWorld({ sim: { defender: { ratePerMinute: 1_000_000 } } }) })
t.teardown(async () => { await world.close() })

const received = (): number => Object.values(world.sim.regions).reduce((n, r) => n + r.received.length, 0)
const P = `/tenants/${TENANT_A}/api`

const HOSTILE: ReadonlyArray<readonly [string, string, string]> = [
  ['Kelvin sign in getmissingkbs', 'GET', `${P}/machines/m1/getmissing%E2%84%AAbs`],
  ['Kelvin sign, upper case', 'GET', `${P}/Software/s1/GETMISSING%E2%84%AABS`],
  ['dotless i', 'GET', `${P}/mach%C4%B1nes`],
  ['capital I with dot', 'GET', `${P}/MACH%C4%B0NES`],
  ['long s', 'GET', `${P}/alert%C5%BF`],
  ['fullwidth letters', 'GET', `${P}/%EF%BD%81%EF%BD%8C%EF%BD%85%EF%BD%92%EF%BD%94%EF%BD%93`],
  ['combining acute', 'GET', `${P}/ale%CC%81rts`],
  ['zero-width joiner', 'POST', `${P}/machines/m1/iso%E2%80%8Dlate`],
  ['ligature fi where machines/{id} takes a value', 'GET', `${P}/machines/%EF%AC%81ndbyip(ip='1.2.3.4')`],
  ['dotless i in an export literal in an id position', 'GET', `${P}/machines/Software%C4%B1nventoryByMachine`],
  ['fullwidth v1.0', 'GET', `${P}/%EF%BD%96%EF%BC%91.%EF%BC%90/alerts`],
  ['overlong slash', 'GET', `${P}/machines%C0%AFm1`],
  ['overlong k', 'GET', `${P}/machines/m1/getmissing%E0%81%ABbs`],
  ['invalid UTF-8 byte', 'GET', `${P}/alerts%FF`],
  ['truncated UTF-8', 'GET', `${P}/alerts/%E2%84`],
  ['UTF-16 surrogate', 'GET', `${P}/alerts/%ED%A0%80`]
]

t.test('non-ASCII route literals, fold-alikes and bad UTF-8: 400 in Defender\'s shape, nothing forwarded', async (t) => {
  const before = received()
  const tokensBefore = world.sim.entra.tokenRequests()
  for (const [name, method, path] of HOSTILE) {
    const res = await call(world.url, path, { method, headers: withKey(world.keys.ops, { 'content-type': 'application/json' }), body: method === 'POST' ? '{}' : undefined })
    t.equal(res.status, 400, name)
    const error = JSON.parse(res.text).error
    t.equal(error.code, 'BadRequest', `${name}: code`)
    t.match(error.message, /^Rejected request/, `${name}: says why`)
    t.type(error.target, 'string', `${name}: target (request id) present`)
  }
  t.equal(received() - before, 0, 'no region received any of them')
  t.equal(world.sim.entra.tokenRequests() - tokensBefore, 0, 'no token was acquired for any of them')
})

t.test('raw (unencoded) UTF-8 bytes in the request line are refused too', async (t) => {
  const before = received()
  const path = Buffer.concat([Buffer.from(`${P}/machines/m1/getmissing`), Buffer.from('\u212A', 'utf8'), Buffer.from('bs')])
  const head = Buffer.concat([Buffer.from('GET '), path, Buffer.from(` HTTP/1.1\r\nhost: x\r\nx-api-key: ${world.keys.ops}\r\nconnection: close\r\n\r\n`)])
  const url = new URL(world.url)
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(head))
    let text = ''
    socket.on('data', (c: Buffer) => { text += c.toString('latin1') })
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
  t.match(answer, /^HTTP\/1\.1 400 /, 'refused')
  t.equal(received() - before, 0, 'nothing forwarded')
})

t.test('non-ASCII in a value position is still forwarded, byte for byte', async (t) => {
  const before = received()
  const res = await call(world.url, `${P}/users/j%C3%B6rg/machines`, { headers: withKey(world.keys.ops) })
  t.not(res.status, 400, `a user name with an umlaut is a value, answered ${res.status}`)
  t.equal(received() - before, 1, 'forwarded once')
  const seen = Object.values(world.sim.regions).flatMap((r) => r.received).filter((r) => r.url.startsWith('/api/users/'))
  t.same(seen.map((r) => r.url), ['/api/users/j%C3%B6rg/machines'], 'upstream saw the same bytes')
})
