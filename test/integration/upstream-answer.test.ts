import t from 'tap'
import { call, withKey, TENANT_A } from '../helper.js'
import { destroyPeers } from '../slow-peers.js'
import { refusals, victimSucceeds, world } from '../starvation-helper.js'

// Defender's answer as bytes on the connection (the sim's 'raw' fault): headers followed by silence, a
// body longer than declared, a body broken off. A pool of one connection shows whether the gateway gave
// it back: the victim's request can only be answered on it.

t.teardown(destroyPeers)

const ALERTS = `/tenants/${TENANT_A}/api/alerts?$top=1`

/** Defender's answer line and headers, with the given ones after the content type. */
function head (headers: string): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\n${headers}\r\n`
}

t.test('headers then silence: the deadline answers 504 and the pool\'s only connection is free again', async (t) => {
  const w = await world(t, { requestDeadlineMs: 300 }, 1)
  const eu = w.sim.regions.eu!
  const forms: Array<[string, string]> = [
    ['read whole (a small length)', 'content-length: 100\r\n'],
    ['streamed (chunked)', 'transfer-encoding: chunked\r\n'],
    ['compressed', 'content-encoding: gzip\r\ncontent-length: 100\r\n']
  ]
  for (const [form, headers] of forms) {
    eu.setFault({ kind: 'raw', bytes: head(headers) })
    const hung = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
    t.equal(hung.status, 504, `${form}: 504`)
    t.equal(JSON.parse(hung.text).error.code, 'UpstreamTimeout', `${form}: in Defender's shape`)
    eu.setFault(undefined)
    await victimSucceeds(t, w, 1)
  }
  t.equal(await refusals(w, 'request_deadline'), forms.length)
})

t.test('a small answer with a length: more bytes than declared are not passed on; one broken off is a clean 502', async (t) => {
  const w = await world(t, {}, 1)
  const eu = w.sim.regions.eu!
  const body = '{"value":[{"id":"da1"}]}'
  eu.setFault({ kind: 'raw', bytes: `${head(`content-length: ${body.length}\r\n`)}${body}{"value":[{"id":"smuggled"}]}` })
  const overrun = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
  t.equal(overrun.status, 200)
  t.equal(overrun.text, body, 'exactly the declared bytes')
  t.equal(overrun.headers['content-length'], String(body.length))
  eu.setFault({ kind: 'raw', bytes: `${head('content-length: 4096\r\n')}{"value":[{"id":"da1"`, close: true })
  const cut = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
  t.equal(cut.status, 502)
  t.equal(JSON.parse(cut.text).error.code, 'UpstreamUnavailable')
  t.match(JSON.parse(cut.text).error.message, /broke off its answer/)
  eu.setFault(undefined)
  await victimSucceeds(t, w, 1)
})
