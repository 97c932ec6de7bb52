import { connect } from 'node:net'
import t from 'tap'
import { startWorld, TENANT_A } from '../helper.js'
import { rawRequest } from '../raw-http.js'

/** Bytes written as given on a fresh connection; resolves with what came back when the server closes. */
async function rawBytes (base: string, bytes: string): Promise<string> {
  const url = new URL(base)
  return await new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) })
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => { resolve(Buffer.concat(chunks).toString('latin1')) })
    socket.write(bytes)
  })
}
const bodyOf = (text: string): { error: Record<string, unknown> } => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))

t.test('gateway errors on Graph paths use Graph\'s shape and wording, Defender paths keep Defender\'s', async (t) => {
  const world = await startWorld()
  t.teardown(async () => { await world.close() })
  const key = { 'x-api-key': world.keys.ops }

  for (const path of [`/tenants/${TENANT_A}/graph/v1.0/security/alerts_v2`, '/v1.0/security/alerts_v2']) {
    const options = await rawRequest(world.url, 'OPTIONS', path, key)
    const body = bodyOf(options.text)
    t.equal(options.status, 405, `OPTIONS ${path}`)
    t.equal(body.error.code, 'MethodNotAllowed')
    t.ok(body.error.innerError !== undefined, 'Graph shape')
    t.notMatch(String(body.error.message), 'Defender', 'Graph wording')
    t.match(String(body.error.message), 'Microsoft Graph')

    const malformed = await rawBytes(world.url, `GET ${path} HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n`)
    t.match(malformed, /^HTTP\/1\.1 400 /, `malformed HTTP to ${path}`)
    t.match(malformed, /\r\nrequest-id: [0-9a-f-]{36}\r\n/i, 'Graph\'s request-id header')
    const bad = bodyOf(malformed)
    t.equal(bad.error.code, 'BadRequest')
    t.match(bad.error.innerError, { 'request-id': /^[0-9a-f-]{36}$/ }, 'Graph shape')
  }
  const defender = await rawRequest(world.url, 'OPTIONS', `/tenants/${TENANT_A}/api/alerts`, key)
  t.match(bodyOf(defender.text), { error: { code: 'MethodNotAllowed', message: /Defender/, target: String } }, 'Defender paths unchanged')
  const malformed = await rawBytes(world.url, `GET /tenants/${TENANT_A}/api/alerts HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n`)
  t.match(bodyOf(malformed), { error: { code: 'BadRequest', target: String } })
})
