import t from 'tap'
import { call, withKey, TENANT_A } from '../helper.js'
import { answerOk, closedWithin, hostileWorld } from '../hostile-upstream.js'

// Defender's 401 is replayed with a fresh token, its body never read. A 401 whose body does not end (a
// chunk now and then, far longer than this test waits) must not keep the pool's only connection: the
// replay has to be sent without waiting for it.

const ALERTS = `/tenants/${TENANT_A}/api/alerts?$top=1`
const HOLD_MS = 10_000

const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`

t.test('a 401 whose body never ends: its call is aborted, the replay gets the pool\'s only connection', async (t) => {
  const { w, upstream } = await hostileWorld(t, {}, 1)
  let bodyEnded = false
  upstream.script = async (request) => {
    upstream.script = answerOk
    request.socket.write('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n')
    request.socket.write(chunk('{"error":{"code":"Unauthorized","message":"'))
    for (let i = 0; i < HOLD_MS / 100; i++) {
      if (await closedWithin(request, 100)) return
      request.socket.write(chunk('x'))
    }
    bodyEnded = true
    request.socket.write(`${chunk('"}}')}0\r\n\r\n`)
  }
  const answer = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
  t.equal(answer.status, 200, 'the caller gets the replay\'s answer')
  t.equal(upstream.requests.length, 2, 'sent, rejected, replayed')
  t.notOk(bodyEnded, 'the replay did not wait for the 401\'s body to end')
  t.ok(upstream.requests[0]!.socket.destroyed, 'the 401\'s call was aborted (its connection closed)')
  const next = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
  t.equal(next.status, 200, 'the next request is answered')
  t.equal(upstream.requests.length, 3)
})
