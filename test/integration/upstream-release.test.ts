import t, { type Test } from 'tap'
import { call, withKey, TENANT_A, TENANT_B } from '../helper.js'
import { answerOk, closedWithin, hostileWorld } from '../hostile-upstream.js'
import { destroyPeers, idleDownload, until } from '../slow-peers.js'

// Calls to Defender that must give their pooled connection up at once, not when Defender is done: a pool
// of one connection shows it, since the next request can only be sent on it (or on a new one once it is
// closed). Defender holds each first answer far longer than these tests wait (HOLD_MS), so a gateway
// that waits for it shows as that answer having been completed before the next request arrived.

t.teardown(destroyPeers)

const ALERTS = `/tenants/${TENANT_A}/api/alerts?$top=1`
const ALERTS_B = `/tenants/${TENANT_B}/api/alerts?$top=1`
const HOLD_MS = 10_000

type World = Awaited<ReturnType<typeof hostileWorld>>

/** A caller hangs up once `started`; another tenant's caller must then be answered on the pool's only connection. */
async function hangUpThenNext (t: Test, w: World['w'], upstream: World['upstream'], started: () => boolean, firstAnswered: () => boolean, awaited: string): Promise<void> {
  const caller = await idleDownload(w.url, w.keys.ops, ALERTS)
  await until(started)
  caller.socket.destroy()
  const next = await call(w.url, ALERTS_B, { headers: withKey(w.keys.siem) })
  t.equal(next.status, 200, 'another caller is answered')
  t.equal(upstream.requests.length, 2, 'its request reached Defender')
  t.notOk(firstAnswered(), `without waiting for ${awaited} to the caller that left`)
  t.ok(upstream.requests[0]!.socket.destroyed, 'the call of the caller that left was aborted (its connection closed)')
}

t.test('a caller that hangs up before Defender\'s headers: the call is aborted, the pool\'s only connection serves the next caller', async (t) => {
  const { w, upstream } = await hostileWorld(t, {}, 1)
  let firstAnswered = false
  upstream.script = async (request) => {
    upstream.script = answerOk
    // A long query: Defender answers after the hold, if the connection is still there.
    if (await closedWithin(request, HOLD_MS)) return
    firstAnswered = true
    answerOk(request)
  }
  await hangUpThenNext(t, w, upstream, () => upstream.requests.length === 1, () => firstAnswered, 'Defender\'s answer')
})

t.test('a caller that hangs up while a small answer with a length is dribbled: the call is aborted, the connection is free', async (t) => {
  const { w, upstream } = await hostileWorld(t, {}, 1)
  let headers = false
  let firstAnswered = false
  const writes = HOLD_MS / 100
  upstream.script = async (request) => {
    upstream.script = answerOk
    // {"value":[ + 10 spaces a write + ]}: a length the gateway reads whole before it answers
    request.socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${12 + 10 * writes}\r\n\r\n{"value":[`)
    headers = true
    for (let i = 0; i < writes; i++) {
      if (await closedWithin(request, 100)) return
      request.socket.write(' '.repeat(10))
    }
    firstAnswered = true
    request.socket.write(']}')
  }
  await hangUpThenNext(t, w, upstream, () => headers, () => firstAnswered, 'the rest of the answer')
})
