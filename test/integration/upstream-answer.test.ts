import t from 'tap'
import { connect, createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { call, startWorld, withKey, TENANT_A } from '../helper.js'
import { destroyPeers, until } from '../slow-peers.js'
import { refusals, victimSucceeds, world } from '../starvation-helper.js'

// Defender's answer as bytes on the connection (the sim's 'raw' fault): headers followed by silence, a
// body longer than declared, a body broken off; and a connection that comes up only after the deadline.
// A pool of one connection shows whether the gateway gave it back: the victim's request can only be
// answered on it.

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

/** A TCP relay to a region that holds each new connection (its TLS handshake unanswered) while `holding`. */
async function holdingRelay (target: string): Promise<{ url: string, holding: boolean, closed: number, release (): void, close (): Promise<void> }> {
  const { hostname, port } = new URL(target)
  const held: Array<() => void> = []
  const sockets = new Set<Socket>()
  const track = (socket: Socket): Socket => {
    sockets.add(socket)
    socket.on('error', () => { socket.destroy() })
    socket.once('close', () => { sockets.delete(socket) })
    return socket
  }
  const server = createServer((socket) => {
    track(socket).once('close', () => { relay.closed++ })
    const pass = (): void => { socket.pipe(track(connect(Number(port), hostname))).pipe(socket) }
    if (relay.holding) held.push(pass)
    else pass()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const relay = {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holding: false,
    closed: 0,
    release () {
      relay.holding = false
      for (const pass of held.splice(0)) pass()
    },
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  }
  return relay
}

t.test('the deadline while the call still waits for its connection: the abort is applied when undici starts it, nothing reaches Defender', async (t) => {
  let relay: Awaited<ReturnType<typeof holdingRelay>> | undefined
  const w = await startWorld({
    beforeGateway: async (sim) => { relay = await holdingRelay(sim.regions.eu!.url) },
    config: (base) => ({
      ...base,
      server: { ...base.server, requestDeadlineMs: 300 },
      upstream: { ...base.upstream, region: 'eu', connections: 1, regions: { ...base.upstream.regions, eu: relay!.url } }
    })
  })
  t.teardown(async () => {
    await w.close()
    await relay!.close()
  })
  const eu = w.sim.regions.eu!
  const alerts = (): number => eu.received.filter((r) => r.url.startsWith('/api/alerts')).length
  relay!.holding = true
  const waiting = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
  t.equal(waiting.status, 504)
  t.equal(JSON.parse(waiting.text).error.code, 'UpstreamTimeout')
  // The connection comes up after the deadline: undici starts the call on it, and the abort ends it there.
  relay!.release()
  await until(() => relay!.closed === 1 || alerts() > 0)
  t.equal(alerts(), 0, 'the request was never written')
  t.equal(relay!.closed, 1, 'its connection was closed')
  const next = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
  t.equal(next.status, 200, 'the next call gets a connection of its own')
})
