import t, { type Test } from 'tap'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { brotliCompressSync, brotliDecompressSync, constants as zlib, gunzipSync, gzipSync } from 'node:zlib'
import { startWorld, withKey, TENANT_A, type TestWorld } from '../helper.js'
import type { DefenderFault } from '../sim/index.js'

// Hostile Defender answers: nextLinks the gateway does not know, nextLinks that are not strings,
// decompression bombs, dribbled bodies. The simulator sends exactly the bytes scripted here.

const MARK = 'QUERYMARK'
const JSON_TYPE = 'application/json; odata.metadata=minimal; charset=utf-8'

interface Raw { status: number, headers: IncomingHttpHeaders, body: Buffer }

/** GET through the gateway; the answer's bytes as they came (decoded here, not by a client library). */
async function fetchRaw (world: TestWorld): Promise<Raw> {
  const url = new URL(world.url)
  return await new Promise((resolve, reject) => {
    httpRequest({ host: url.hostname, port: url.port, path: `/tenants/${TENANT_A}/api/alerts?$top=3`, headers: withKey(world.keys.siem, { 'accept-encoding': 'gzip, br' }), agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    }).on('error', reject).end()
  })
}

function decoded (raw: Raw): string {
  const enc = raw.headers['content-encoding']
  return (enc === 'gzip' ? gunzipSync(raw.body) : enc === 'br' ? brotliDecompressSync(raw.body) : raw.body).toString('utf8')
}

/** A page of alerts with the given nextLink value (JSON-encoded as Defender would), padded to `minBytes`. */
function page (nextLink: unknown, minBytes = 0): Buffer {
  const value = [{ id: 'da1', title: 'one' }, { id: 'da2', title: 'two' }]
  const pad = Math.max(0, minBytes - 400)
  if (pad > 0) value.push({ id: 'pad', title: 'x'.repeat(pad) })
  return Buffer.from(JSON.stringify({ '@odata.context': 'https://api.securitycenter.microsoft.com/api/$metadata#Alerts', value, '@odata.nextLink': nextLink }))
}

type Form = 'small' | 'large' | 'gzip' | 'br' | 'dribbled'
const FORMS: Form[] = ['small', 'large', 'gzip', 'br', 'dribbled']

/** The same page as Defender may deliver it: whole with a length, > 256 KiB, compressed, or 2 bytes a write. */
function answer (form: Form, nextLink: unknown): DefenderFault {
  const body = page(nextLink, form === 'large' ? 300 * 1024 : 0)
  if (form === 'gzip') return { kind: 'answer', headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(body) }
  if (form === 'br') return { kind: 'answer', headers: { 'content-type': JSON_TYPE, 'content-encoding': 'br' }, body: brotliCompressSync(body) }
  if (form === 'dribbled') return { kind: 'answer', headers: { 'content-type': JSON_TYPE }, body, writeBytes: 2 }
  return { kind: 'answer', headers: { 'content-type': JSON_TYPE, 'content-length': String(body.length) }, body }
}

function setFault (world: TestWorld, fault: DefenderFault | undefined): void {
  for (const region of Object.values(world.sim.regions)) region.setFault(fault)
}

async function counter (world: TestWorld, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await world.gateway.metrics.registry.getSingleMetric(name)?.get()
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
  return match?.value ?? 0
}

let world: TestWorld
t.before(async () => { world = await startWorld() })
t.teardown(async () => { await world.close() })

// One row per class of hostile nextLink, with the reason the gateway gives for removing it.
const hostile: Array<[string, string, string]> = [
  ['another host', `https://evil.example/api/alerts?$skip=3&sig=${MARK}`, 'unknown_host'],
  ['a host the docs show but nobody configured', `https://wpatdadi-eus-stg.cloudapp.net/api/alerts?$skip=3&sig=${MARK}`, 'unknown_host'],
  ['protocol-relative', `//evil.example/api/alerts?sig=${MARK}`, 'malformed'],
  ['a non-/api path on a Defender host', `https://api.securitycenter.microsoft.com/admin/regions?sig=${MARK}`, 'not_api_path'],
  ['dot segments out of /api', `https://api.securitycenter.microsoft.com/api/../../admin?sig=${MARK}`, 'not_api_path'],
  ['userinfo', `https://api.securitycenter.microsoft.com@evil.example/api/alerts?sig=${MARK}`, 'malformed'],
  ['a backslash', `https://evil.example\\@api.securitycenter.microsoft.com/api/alerts?sig=${MARK}`, 'malformed'],
  ['a control character', `https://api.securitycenter.microsoft.com\t.evil.example/api/alerts?sig=${MARK}`, 'malformed'],
  ['a non-ASCII host trick', `https://api\uff0esecuritycenter.microsoft.com/api/alerts?sig=${MARK}`, 'malformed'],
  ['an oversized link', `https://api.securitycenter.microsoft.com/api/alerts?$skiptoken=${'A'.repeat(10_000)}&sig=${MARK}`, 'too_long']
]

for (const [name, link, reason] of hostile) {
  t.test(`a nextLink with ${name} never reaches the caller`, async (t) => {
    for (const form of FORMS) {
      setFault(world, answer(form, link))
      const before = await counter(world, 'defender_gateway_next_links_removed_total', { reason })
      const raw = await fetchRaw(world)
      t.equal(raw.status, 200, `${form}: the page still arrives`)
      const body = JSON.parse(decoded(raw))
      t.notOk('@odata.nextLink' in body, `${form}: the link is removed (a last page)`)
      t.equal(body.value.length, 2 + (form === 'large' ? 1 : 0), `${form}: the rest of the page is intact`)
      t.equal(await counter(world, 'defender_gateway_next_links_removed_total', { reason }), before + 1, `${form}: counted as ${reason}`)
      const logged = world.logs.filter((l) => l.msg === 'removed an @odata.nextLink that does not point at a known Defender host').at(-1)
      t.equal(logged?.reason, reason, `${form}: logged with its reason`)
    }
    setFault(world, undefined)
    t.notOk(world.rawLogs.some((line) => line.includes(MARK)), 'the query string is never logged')
  })
}

t.test('control: a nextLink on a Defender host is rewritten in every form', async (t) => {
  for (const form of FORMS) {
    setFault(world, answer(form, 'https://api.securitycenter.microsoft.com/api/alerts?$top=3&$skip=3'))
    const raw = await fetchRaw(world)
    t.equal(JSON.parse(decoded(raw))['@odata.nextLink'], `${world.url}/tenants/${TENANT_A}/api/alerts?$top=3&$skip=3`, form)
  }
  setFault(world, undefined)
})

t.test('a nextLink that is an array or object fails the answer instead of reaching the caller', async (t) => {
  for (const value of [['https://evil.example/api/alerts'], { href: 'https://evil.example/api/alerts' }]) {
    for (const form of ['small', 'gzip', 'br'] as Form[]) {
      setFault(world, answer(form, value))
      const before = await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'next_link_value' })
      const raw = await fetchRaw(world)
      t.equal(raw.status, 502, `${form}: clean 502`)
      t.equal(JSON.parse(raw.body.toString()).error.code, 'UpstreamUnavailable')
      t.equal(await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'next_link_value' }), before + 1)
    }
    // Already streaming (> 256 KiB, uncompressed): the body is cut off, so the caller never parses the link.
    setFault(world, answer('large', value))
    const cut = await fetchRaw(world).then((raw) => decoded(raw), () => 'connection reset')
    t.throws(() => JSON.parse(cut), 'large: the caller gets no parsable answer')
  }
  setFault(world, undefined)
})

t.test('a nextLink key spelled with \\u escapes fails the answer (a client parser would read it)', async (t) => {
  const body = Buffer.from('{"value":[{"id":"da1"}],"@odata.next\\u004cink":"https://evil.example/api/alerts"}')
  t.equal(JSON.parse(body.toString())['@odata.nextLink'], 'https://evil.example/api/alerts')
  const deliveries: DefenderFault[] = [
    { kind: 'answer', headers: { 'content-type': JSON_TYPE, 'content-length': String(body.length) }, body },
    { kind: 'answer', headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(body) },
    { kind: 'answer', headers: { 'content-type': JSON_TYPE, 'content-encoding': 'br' }, body: brotliCompressSync(body) }
  ]
  for (const fault of deliveries) {
    setFault(world, fault)
    const before = await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'next_link_key' })
    const raw = await fetchRaw(world)
    t.equal(raw.status, 502)
    t.equal(await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'next_link_key' }), before + 1)
  }
  setFault(world, { kind: 'answer', headers: { 'content-type': JSON_TYPE }, body, writeBytes: 2 })
  const cut = await fetchRaw(world).then((raw) => decoded(raw), () => 'connection reset')
  t.throws(() => JSON.parse(cut), 'dribbled (already streaming): the caller gets no parsable answer')
  setFault(world, undefined)
})

/** `{"value":[ <n spaces> ]}` compressed: kilobytes that inflate to `n` bytes. */
function bomb (encoding: 'gzip' | 'br', n: number): Buffer {
  const body = Buffer.alloc(n + 12, 0x20)
  body.write('{"value":[', 0)
  body.write(']}', n + 10)
  return encoding === 'gzip' ? gzipSync(body, { level: 9 }) : brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } })
}

async function expectRefused (t: Test, w: TestWorld, encoding: 'gzip' | 'br', compressed: Buffer, limit: number): Promise<void> {
  setFault(w, { kind: 'answer', headers: { 'content-type': JSON_TYPE, 'content-encoding': encoding, 'content-length': String(compressed.length) }, body: compressed })
  const refused = await counter(w, 'defender_gateway_upstream_answers_refused_total', { reason: 'inflate_limit' })
  const inflated = await counter(w, 'defender_gateway_upstream_inflated_bytes_total')
  const raw = await fetchRaw(w)
  t.equal(raw.status, 502, `${encoding}: ${compressed.length} compressed bytes answered with a clean 502`)
  t.equal(JSON.parse(raw.body.toString()).error.code, 'UpstreamUnavailable')
  t.equal(await counter(w, 'defender_gateway_upstream_answers_refused_total', { reason: 'inflate_limit' }), refused + 1, 'counted')
  // The guard stops the decoder: what was inflated stays under the limit, not the bomb's 64 MiB.
  const spent = await counter(w, 'defender_gateway_upstream_inflated_bytes_total') - inflated
  t.ok(spent > 0 && spent <= limit, `${encoding}: ${spent} bytes inflated, limit ${limit}`)
  setFault(w, undefined)
  t.equal((await fetchRaw(w)).status, 200, 'the next answer is served as usual')
}

t.test('regression: a compressed answer of a few KB inflated to gigabytes (decompression bomb), ratio limit', async (t) => {
  for (const encoding of ['gzip', 'br'] as const) {
    const compressed = bomb(encoding, 64 * 1024 * 1024)
    // default upstream.maxInflationRatio 200: at most 200 x the compressed bytes (or the 256 KiB floor)
    await expectRefused(t, world, encoding, compressed, Math.max(256 * 1024 + 64 * 1024, 200 * compressed.length))
  }
})

t.test('regression: decompression bomb, byte limit (upstream.maxInflatedBytes)', async (t) => {
  const capped = await startWorld({ config: (base) => ({ ...base, upstream: { ...base.upstream, maxInflatedBytes: 2 * 1024 * 1024, maxInflationRatio: 1_000_000 } }) })
  t.teardown(async () => { await capped.close() })
  for (const encoding of ['gzip', 'br'] as const) await expectRefused(t, capped, encoding, bomb(encoding, 64 * 1024 * 1024), 2 * 1024 * 1024)
})
