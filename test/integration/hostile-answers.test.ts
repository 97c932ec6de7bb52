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

t.test('an @odata.deltaLink from a hostile Defender is removed, a Defender one rewritten, in every form', async (t) => {
  /** the page of `answer(form)`, its nextLink member renamed to a deltaLink */
  const withDelta = (form: Form, link: string): DefenderFault => {
    const fault = answer(form, link) as Extract<DefenderFault, { kind: 'answer' }>
    const plain = Buffer.from(page(link, form === 'large' ? 300 * 1024 : 0).toString().replace('"@odata.nextLink"', '"@odata.deltaLink"'))
    const body = form === 'gzip' ? gzipSync(plain) : form === 'br' ? brotliCompressSync(plain) : plain
    const headers = { ...fault.headers, ...(fault.headers?.['content-length'] === undefined ? {} : { 'content-length': String(body.length) }) }
    return { ...fault, headers, body }
  }
  for (const form of FORMS) {
    setFault(world, withDelta(form, `https://evil.example.com/api/alerts?$deltatoken=${MARK}`))
    const hostile = JSON.parse(decoded(await fetchRaw(world)))
    t.notOk('@odata.deltaLink' in hostile, `${form}: the hostile deltaLink is removed`)
    t.equal(hostile.value.length, 2 + (form === 'large' ? 1 : 0), `${form}: the rest of the page is intact`)
    setFault(world, withDelta(form, 'https://api.securitycenter.microsoft.com/api/alerts?$deltatoken=D1'))
    const own = JSON.parse(decoded(await fetchRaw(world)))
    t.equal(own['@odata.deltaLink'], `${world.url}/tenants/${TENANT_A}/api/alerts?$deltatoken=D1`, `${form}: Defender's own is rewritten`)
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

// ---- Answers a client would read a link from although the rewriter did not look (fail closed) ----

const EVIL_LINK = `https://evil.example/api/alerts?$skip=3&sig=${MARK}`

/** `form` as in answer(), with the page's bytes given and the headers overridden (null: header left out). */
function deliver (form: Form, body: Buffer, headers: Record<string, string | null> = {}): DefenderFault {
  const base: Record<string, string> = { 'content-type': JSON_TYPE }
  let bytes = body
  if (form === 'gzip') { base['content-encoding'] = 'gzip'; bytes = gzipSync(body) }
  if (form === 'br') { base['content-encoding'] = 'br'; bytes = brotliCompressSync(body) }
  if (form === 'small') base['content-length'] = String(body.length)
  for (const [k, v] of Object.entries(headers)) { if (v === null) Reflect.deleteProperty(base, k); else base[k] = v }
  return { kind: 'answer', headers: base, body: bytes, ...(form === 'dribbled' ? { writeBytes: 2 } : {}) }
}

/** The page's JSON text with `member` (raw JSON text) as its last member, padded like page(). */
function pageWith (form: Form, member: string): Buffer {
  const pad = form === 'large' ? 'x'.repeat(300 * 1024) : 'one'
  return Buffer.from(`{"@odata.context":"https://api.securitycenter.microsoft.com/api/$metadata#Alerts","value":[{"id":"da1","title":"${pad}"},{"id":"da2","title":"two"}],${member}}`)
}

/** Nothing of the link reaches the caller: a clean 502 (counted with `reason`) while nothing was sent, else a cut body. */
async function expectRefusedOrCut (t: Test, form: Form, fault: DefenderFault, reason: string): Promise<void> {
  setFault(world, fault)
  const before = await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason })
  const raw = await fetchRaw(world).catch(() => undefined)
  if (raw !== undefined && raw.status === 502) {
    t.equal(JSON.parse(raw.body.toString()).error.code, 'UpstreamUnavailable', `${form}: 502 in Defender's error shape`)
    t.equal(await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason }), before + 1, `${form}: counted as ${reason}`)
    return
  }
  t.not(form, 'small', 'small: nothing was sent yet, so the answer must be a 502')
  t.not(form, 'gzip', 'gzip: held back, so the answer must be a 502')
  t.not(form, 'br', 'br: held back, so the answer must be a 502')
  const text = raw === undefined ? 'connection reset' : (() => { try { return decoded(raw) } catch { return 'undecodable' } })()
  t.throws(() => JSON.parse(text), `${form}: already streaming, the caller gets no parsable answer`)
}

t.test('(a) whitespace beyond the bound around a nextLink\'s colon fails the answer (valid JSON a client reads)', async (t) => {
  const members = [
    `"@odata.nextLink"${' '.repeat(65)}:"${EVIL_LINK}"`,
    `"@odata.nextLink":${' '.repeat(65)}"${EVIL_LINK}"`,
    `"@odata.nextLink"${'\n\t'.repeat(40)}:${'\r\n'.repeat(40)}"${EVIL_LINK}"`,
    `"@odata.next\\u004cink"${' '.repeat(65)}:"${EVIL_LINK}"`,
    `"@odata.NextLink":${' '.repeat(5000)}"${EVIL_LINK}"`
  ]
  for (const member of members) {
    t.equal(JSON.parse(pageWith('small', member).toString())['@odata.nextLink'] ?? JSON.parse(pageWith('small', member).toString())['@odata.NextLink'], EVIL_LINK, 'a parser reads the link')
    for (const form of FORMS) await expectRefusedOrCut(t, form, deliver(form, pageWith(form, member)), 'next_link_whitespace')
  }
  setFault(world, undefined)
})

t.test('(b) every answer body is scanned, whatever its Content-Type (clients parse JSON regardless of it)', async (t) => {
  for (const type of ['text/plain', 'text/json', null, 'application/octet-stream', 'application/x-ndjson', 'text/html; charset=utf-8']) {
    for (const form of FORMS) {
      setFault(world, deliver(form, page(EVIL_LINK, form === 'large' ? 300 * 1024 : 0), { 'content-type': type }))
      const before = await counter(world, 'defender_gateway_next_links_removed_total', { reason: 'unknown_host' })
      const raw = await fetchRaw(world)
      t.equal(raw.status, 200, `${type} ${form}: the page still arrives`)
      const text = decoded(raw)
      t.notOk(text.includes('evil.example'), `${type} ${form}: the link is removed`)
      t.equal(JSON.parse(text).value.length, 2 + (form === 'large' ? 1 : 0), `${type} ${form}: the rest is intact`)
      t.equal(await counter(world, 'defender_gateway_next_links_removed_total', { reason: 'unknown_host' }), before + 1, `${type} ${form}: counted`)
    }
  }
  setFault(world, undefined)
})

t.test('(c) a Content-Encoding other than one known coding or identity fails the answer', async (t) => {
  const body = page(EVIL_LINK)
  const encodings: Array<[string, Buffer]> = [
    ['gzip, gzip', gzipSync(gzipSync(body))],
    ['identity, gzip', gzipSync(body)],
    ['gzip, identity', gzipSync(body)],
    ['gzip,br', brotliCompressSync(gzipSync(body))],
    ['compress', body],
    ['zstd', body],
    ['x-custom', body]
  ]
  for (const [encoding, bytes] of encodings) {
    for (const form of ['small', 'large', 'dribbled'] as Form[]) {
      const fault = deliver(form, bytes, { 'content-encoding': encoding })
      setFault(world, fault)
      const before = await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'content_encoding' })
      const raw = await fetchRaw(world)
      t.equal(raw.status, 502, `${encoding} ${form}: clean 502`)
      t.equal(raw.headers['content-encoding'], undefined, `${encoding} ${form}: the coding is not passed on`)
      t.equal(JSON.parse(raw.body.toString()).error.code, 'UpstreamUnavailable')
      t.equal(await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'content_encoding' }), before + 1, `${encoding} ${form}: counted`)
    }
  }
  for (const encoding of ['identity', ' GZIP ', 'x-gzip']) {
    setFault(world, deliver('small', encoding === 'identity' ? body : gzipSync(body), { 'content-encoding': encoding, 'content-length': null }))
    const raw = await fetchRaw(world)
    t.equal(raw.status, 200, `${encoding}: served`)
    t.notOk(decoded({ ...raw, headers: { ...raw.headers, 'content-encoding': raw.headers['content-encoding'] === 'x-gzip' ? 'gzip' : raw.headers['content-encoding'] } }).includes('evil.example'), `${encoding}: link removed`)
  }
  setFault(world, undefined)
})

t.test('(d) an answer in a charset other than UTF-8 fails the answer (declared or sniffed)', async (t) => {
  const utf16 = (form: Form): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(page(EVIL_LINK, form === 'large' ? 300 * 1024 : 0).toString(), 'utf16le')])
  for (const charset of ['utf-16', 'UTF-16LE', '"utf-16"', 'iso-8859-1', 'utf-7']) {
    for (const form of FORMS) {
      const fault = deliver(form, utf16(form), { 'content-type': `application/json; charset=${charset}` })
      setFault(world, fault)
      const before = await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'charset' })
      const raw = await fetchRaw(world)
      t.equal(raw.status, 502, `${charset} ${form}: clean 502`)
      t.equal(await counter(world, 'defender_gateway_upstream_answers_refused_total', { reason: 'charset' }), before + 1, `${charset} ${form}: counted`)
    }
  }
  // No charset declared (or a wrong one): a client may still detect UTF-16/32 from the first bytes.
  for (const [, bytes] of [['utf-16le with BOM', utf16], ['utf-16be without BOM', (f: Form) => Buffer.from(page(EVIL_LINK, f === 'large' ? 300 * 1024 : 0).toString(), 'utf16le').swap16()]] as Array<[string, (f: Form) => Buffer]>) {
    for (const type of [null, 'application/json', 'application/json; charset=utf-8']) {
      for (const form of FORMS) await expectRefusedOrCut(t, form, deliver(form, bytes(form), { 'content-type': type }), 'charset')
    }
  }
  for (const charset of ['utf-8', 'UTF8', 'us-ascii', '"utf-8"']) {
    setFault(world, deliver('small', page(EVIL_LINK), { 'content-type': `application/json; charset=${charset}` }))
    const raw = await fetchRaw(world)
    t.equal(raw.status, 200, `${charset}: served`)
    t.notOk(decoded(raw).includes('evil.example'), `${charset}: link removed`)
  }
  setFault(world, undefined)
})

t.test('(e) a nextLink key in another case, or spelled odata.nextLink (OData v4.0), is checked like the plain one', async (t) => {
  for (const key of ['@odata.NextLink', 'odata.nextLink', '@ODATA.NEXTLINK', 'Odata.NextLink', '@Odata.nextlink']) {
    for (const form of FORMS) {
      setFault(world, deliver(form, pageWith(form, `"${key}":"${EVIL_LINK}"`)))
      const before = await counter(world, 'defender_gateway_next_links_removed_total', { reason: 'unknown_host' })
      const raw = await fetchRaw(world)
      t.equal(raw.status, 200, `${key} ${form}: the page still arrives`)
      const text = decoded(raw)
      t.notOk(text.includes('evil.example'), `${key} ${form}: the link is removed`)
      t.equal(JSON.parse(text).value.length, 2, `${key} ${form}: the rest is intact`)
      t.equal(await counter(world, 'defender_gateway_next_links_removed_total', { reason: 'unknown_host' }), before + 1, `${key} ${form}: counted`)
    }
    setFault(world, answer('small', undefined))
  }
  for (const form of FORMS) {
    setFault(world, deliver(form, pageWith(form, '"odata.NEXTlink":"https://api.securitycenter.microsoft.com/api/alerts?$skip=3"')))
    const raw = await fetchRaw(world)
    t.equal(JSON.parse(decoded(raw))['odata.NEXTlink'], `${world.url}/tenants/${TENANT_A}/api/alerts?$skip=3`, `${form}: a Defender link under another spelling is rewritten`)
  }
  // Escaped and in another case: refused like the escaped plain key.
  for (const key of ['@odata.Next\\u004cink', 'odata.next\\u004cink']) {
    await expectRefusedOrCut(t, 'small', deliver('small', pageWith('small', `"${key}":"${EVIL_LINK}"`)), 'next_link_key')
  }
  setFault(world, undefined)
})

t.test('a request that logs a warning and its access line carry the same request id, first after the base fields', async (t) => {
  // The access line is written by the root logger and a request's child logger is built only when the
  // request logs (src/observability/request-logger.ts): both must still read as lines of one request.
  setFault(world, answer('small', `https://evil.example/api/alerts?sig=${MARK}`))
  const raw = await fetchRaw(world)
  setFault(world, undefined)
  const id = raw.headers['x-request-id'] as string
  const lines = world.rawLogs.filter((line) => line.includes(`"requestId":"${id}"`))
  const warning = lines.find((line) => line.includes('"msg":"removed an @odata.nextLink'))
  const access = lines.find((line) => line.endsWith('"msg":"request"}'))
  t.ok(warning, 'the warning names the request')
  t.ok(access, 'the access line names the request')
  for (const line of [warning, access]) t.match(line, /^\{"level":\d+,"time":"[^"]+","service":"defender-gateway","requestId":"/, 'request id right after the base fields')
  t.equal(lines.length, 2, 'exactly those two lines')
})
