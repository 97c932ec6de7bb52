import t from 'tap'
import { call, startWorld, withKey, TENANT_A, TENANT_B, type TestWorld } from '../helper.js'

// A Defender answer whose status code HTTP does not have (the sim's 'raw' fault writes the bytes): undici
// passes on any three digits, fastify refuses to send a status outside 100-599. Before the fix the throw
// became an uncaught exception: the gateway process exited (and this test file with it).

const ALERTS = `/tenants/${TENANT_A}/api/alerts?$top=1`

async function refused (w: TestWorld, reason: string): Promise<number> {
  const metric = await w.gateway.metrics.registry.getSingleMetric('defender_gateway_upstream_answers_refused_total')?.get()
  return metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0
}

t.test('a status outside 200-599 is refused with a clean 502; the gateway lives on and the pool\'s only connection is free', async (t) => {
  // One region, one pooled connection: the next request can only be answered on it (or on a new one). A
  // short deadline, so that a request left unanswered ends as a failure of this test, not a hang.
  const w = await startWorld({
    config: (base) => ({
      ...base,
      server: { ...base.server, requestDeadlineMs: 5000 },
      upstream: { ...base.upstream, region: 'eu', connections: 1, regions: { eu: base.upstream.regions.eu } }
    })
  })
  t.teardown(async () => { await w.close() })
  const eu = w.sim.regions.eu!
  for (const status of [600, 999]) {
    const body = '{"value":[{"id":"da1"}]}'
    eu.setFault({ kind: 'raw', bytes: `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}` })
    const before = await refused(w, 'status')
    const answer = await call(w.url, ALERTS, { headers: withKey(w.keys.ops) })
    t.equal(answer.status, 502, `${status}: 502`)
    const error = JSON.parse(answer.text).error
    t.equal(error.code, 'UpstreamUnavailable', `${status}: in Defender's error shape`)
    t.match(error.message, /status code outside 200-599/, `${status}: says why`)
    t.notOk(answer.text.includes('da1'), `${status}: nothing of Defender's answer is passed on`)
    t.equal(await refused(w, 'status'), before + 1, `${status}: counted as status`)
    const access = w.logs.find((l) => l.msg === 'request' && l.requestId === answer.headers['x-request-id'])
    t.equal(access?.status, 502, `${status}: the access line says 502`)
    eu.setFault(undefined)
    const next = await call(w.url, `/tenants/${TENANT_B}/api/alerts?$top=1`, { headers: withKey(w.keys.siem) })
    t.equal(next.status, 200, `${status}: the next request is answered`)
  }
  t.notOk(w.logs.some((l) => l.msg === 'handling Defender\'s answer failed'), 'refused as Defender\'s fault, not handled as a bug of ours')
})
