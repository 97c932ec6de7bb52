import t, { type Test } from 'tap'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { NextLinkScanner, NextLinkTransform, rewriteNextLinks, type LinkRewriter, type ScanWork } from '../../src/proxy/next-link.js'
import { decideLink, knownLinkHosts } from '../../src/proxy/link-policy.js'

const known = knownLinkHosts('public', [])
const rewrite: LinkRewriter = (link) => {
  const d = decideLink(link, known, 'https://gw.example.com/tenants/contoso')
  return d.action === 'rewrite' ? d.link : d.action === 'keep' ? undefined : null
}

async function through (chunks: Array<string | Buffer>): Promise<string> {
  return await text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new NextLinkTransform(rewrite)))
}

/** The body in two pieces at every byte boundary, and one byte at a time: every way must agree. */
async function everySplit (body: string): Promise<Set<string>> {
  const bytes = Buffer.from(body)
  const outs = new Set<string>()
  for (let i = 0; i <= bytes.length; i++) outs.add(await through([bytes.subarray(0, i), bytes.subarray(i)]))
  outs.add(await through(Array.from(bytes, (b) => Buffer.from([b]))))
  outs.add(rewriteNextLinks(bytes, rewrite).toString())
  return outs
}

const GOOD = 'https://api.securitycenter.microsoft.com/api/alerts?$skip=2'
const GOOD_OUT = 'https://gw.example.com/tenants/contoso/api/alerts?$skip=2'
const EVIL = 'https://evil.example/api/alerts?$skip=2'

// Where a removed member sits in its object: the result must stay valid JSON without it.
const placements: Array<[string, string, unknown]> = [
  ['last member', `{"value":[1],"@odata.nextLink":"${EVIL}"}`, { value: [1] }],
  ['first member', `{"@odata.nextLink":"${EVIL}","value":[1]}`, { value: [1] }],
  ['middle member', `{"a":1,"@odata.nextLink":"${EVIL}","value":[1]}`, { a: 1, value: [1] }],
  ['only member', `{"@odata.nextLink":"${EVIL}"}`, {}],
  ['spaced out', `{ "value" : [1] ,\n  "@odata.nextLink" :  "${EVIL}"  \n}`, { value: [1] }],
  ['spaced first', `{\n "@odata.nextLink" : "${EVIL}" ,\n "value": [1]\n}`, { value: [1] }],
  ['nested', `{"value":[{"id":1,"@odata.nextLink":"${EVIL}"}]}`, { value: [{ id: 1 }] }],
  ['two links', `{"@odata.nextLink":"${EVIL}","@odata.nextLink":"${GOOD}"}`, { '@odata.nextLink': GOOD_OUT }],
  ['escaped link', '{"v":1,"@odata.nextLink":"https:\\/\\/evil.example\\/api\\/alerts"}', { v: 1 }],
  ['link with a control character', '{"v":1,"@odata.nextLink":"https://api.security.microsoft.com\\t.evil.example/api"}', { v: 1 }]
]

for (const [name, body, expected] of placements) {
  t.test(`a nextLink to an unknown host is removed (${name}), at every split`, async (t) => {
    const outs = await everySplit(body)
    t.equal(outs.size, 1, 'every chunking gives the same bytes')
    t.same(JSON.parse([...outs][0] as string), expected)
  })
}

t.test('known links are rewritten and download links kept, at every split, keys inside strings ignored', async (t) => {
  const body = JSON.stringify({
    value: [{ id: 'a', title: 'has \\"@odata.nextLink\\" inside a string', '@odata.nextLink': 'https://eu.api.security.microsoft.com/api/alerts?$skip=1' }],
    file: 'https://x.blob.core.windows.net/y?sig=1',
    '@odata.nextLink': `${GOOD}&note=%C3%A9`
  }, null, 1)
  const outs = await everySplit(body)
  t.equal(outs.size, 1)
  const out = JSON.parse([...outs][0] as string)
  t.equal(out['@odata.nextLink'], `${GOOD_OUT}&note=%C3%A9`)
  t.equal(out.value[0]['@odata.nextLink'], 'https://gw.example.com/tenants/contoso/api/alerts?$skip=1')
  t.equal(out.value[0].title, 'has \\"@odata.nextLink\\" inside a string')
})

t.test('a nextLink on a download host is kept byte for byte', async (t) => {
  const body = '{"@odata.nextLink":"https://x.blob.core.windows.net/a?sig=1"}'
  t.equal(await through([body]), body)
})

t.test('null, numbers, other keys and keys used as values pass through untouched', async (t) => {
  const body = '{"n": {"@odata.nextLink": null}, "m": {"@odata.nextLink": 12}, "@odata.nextLinkX": "https://a/api/x", "l": ["@odata.nextLink", "https://evil.example/api"], "k": "@odata.nextLink"}'
  t.equal(await through([body]), body)
  t.equal(rewriteNextLinks(Buffer.from(body), rewrite).toString(), body)
})

t.test('a nextLink that is an array or object fails the answer (clients coerce an array to its string)', async (t) => {
  for (const value of [`["${EVIL}"]`, `{"href":"${EVIL}"}`]) {
    const body = `{"value":[],"@odata.nextLink": ${value}}`
    t.throws(() => rewriteNextLinks(Buffer.from(body), rewrite), { name: 'HostileAnswer' })
    await t.rejects(through([body.slice(0, 20), body.slice(20)]), { name: 'HostileAnswer' })
  }
})

t.test('an unterminated nextLink at the end of the answer is dropped, an unfinished key kept', async (t) => {
  t.equal(await through(['x"@odata.nextLink": "https://evil.exa', 'mple/api']), 'x')
  t.equal(await through(['{"a":1, "@odata.nextLink"']), '{"a":1, "@odata.nextLink"')
  t.equal(await through(['"@odata.nextLink": ']), '"@odata.nextLink": ')
})

t.test('an oversized nextLink is removed without being held whole', async (t) => {
  const long = `https://api.security.microsoft.com/api/x?${'q'.repeat(200_000)}`
  const body = `{"a":1,"@odata.nextLink":"${long}","b":2}`
  const chunks = body.match(/[\s\S]{1,1000}/g) as string[]
  let largest = 0
  const out = await text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new NextLinkTransform(rewrite)).on('data', (b: Buffer) => { largest = Math.max(largest, b.length) }))
  t.same(JSON.parse(out), { a: 1, b: 2 })
  t.ok(largest < 20_000, `largest piece emitted ${largest} bytes`)
})

t.test('the whole-body rewrite returns the same buffer, uncopied, when there is no nextLink', async (t) => {
  const body = Buffer.from(JSON.stringify({ value: [{ id: 1, title: '@odata.nextLink without quotes' }] }))
  t.equal(rewriteNextLinks(body, rewrite), body)
})

/** Bytes the scanner looks at for `body` fed in pieces of `size` bytes. */
function scanned (body: Buffer, size: number): number {
  const work: ScanWork = { bytes: 0 }
  const scanner = new NextLinkScanner(rewrite, work)
  for (let i = 0; i < body.length; i += size) scanner.write(body.subarray(i, i + size), () => {}, false)
  scanner.write(Buffer.alloc(0), () => {}, true)
  return work.bytes
}

t.test('regression: a nextLink dribbled in tiny writes made the scanner rescan its buffer (quadratic work)', async (t) => {
  // Linear: each byte is looked at a bounded number of times, plus a bounded carry per write, whatever
  // is held. The old scanner looked at the whole held link again on every write: about
  // linkBytes^2 / (2 * size) bytes, i.e. 128 million for a 16 KB link in 1-byte writes.
  const perWrite = 100
  for (const linkBytes of [4000, 8000, 16_000]) {
    const body = Buffer.from(`{"value":[${'{"id":1},'.repeat(200)}{"id":2}],"@odata.nextLink":"https://api.security.microsoft.com/api/x?${'q'.repeat(linkBytes)}"}`)
    const whole = scanned(body, body.length)
    t.ok(whole <= 3 * body.length, `one write: ${whole} bytes looked at for ${body.length}`)
    for (const size of [1, 2, 7]) {
      const pieces = scanned(body, size)
      const writes = Math.ceil(body.length / size)
      t.ok(pieces <= 3 * body.length + perWrite * writes, `${body.length} bytes in ${size}-byte writes: ${pieces} bytes looked at`)
    }
  }
  const ws = Buffer.from(`{"a":1,${' '.repeat(50_000)}"@odata.nextLink":"${EVIL}"}`)
  t.ok(scanned(ws, 1) <= 3 * ws.length + perWrite * ws.length, 'a long run of whitespace dribbled byte by byte stays linear too')
})

t.test('a nextLink key spelled with \\u escapes fails the answer at every split (a client would read it)', async (t) => {
  const spellings = ['@odata.next\\u004cink', '\\u0040odata.nextLink', '\\u0040\\u006f\\u0064\\u0061\\u0074\\u0061\\u002e\\u006e\\u0065\\u0078\\u0074\\u004c\\u0069\\u006e\\u006b', '@odata.nextLin\\u006B']
  for (const key of spellings) {
    const body = `{"value":[{"t":"${'x'.repeat(300)}"}],\n "${key}" : "https://evil.example/api/alerts"}`
    t.equal(JSON.parse(body)['@odata.nextLink'], 'https://evil.example/api/alerts', 'a JSON parser reads it as the nextLink')
    t.throws(() => rewriteNextLinks(Buffer.from(body), rewrite), { name: 'HostileAnswer', reason: 'next_link_key' })
    const bytes = Buffer.from(body)
    let refused = 0
    for (let i = 0; i <= bytes.length; i += 7) {
      await through([bytes.subarray(0, i), bytes.subarray(i)]).then(() => {}, (err: Error) => { if (err.name === 'HostileAnswer') refused++ })
    }
    t.equal(refused, Math.floor(bytes.length / 7) + 1, `${key}: refused at every split`)
    await t.rejects(through(Array.from(bytes, (b) => Buffer.from([b]))), { name: 'HostileAnswer' }, `${key}: refused one byte at a time`)
  }
})

t.test('escapes elsewhere pass: in values, in other keys, in long strings', async (t) => {
  const body = '{"title":"caf\\u00e9 \\u0040odata.nextLink","\\u00e9t\\u00e9":1,"k":"\\u0040odata.nextLink","@odata.nextLinks\\u0041":2,"long":"' + 'y'.repeat(200) + '\\u0041"}'
  t.equal(await through([body]), body)
  t.equal(rewriteNextLinks(Buffer.from(body), rewrite).toString(), body)
  t.equal(await through(Array.from(Buffer.from(body), (b) => Buffer.from([b]))), body)
})

/** Refused with `reason` whole, at every split and one byte at a time. */
async function refusedEverywhere (t: Test, body: string, reason: string): Promise<void> {
  const bytes = Buffer.from(body)
  t.throws(() => rewriteNextLinks(bytes, rewrite), { name: 'HostileAnswer', reason }, 'whole')
  let refused = 0
  for (let i = 0; i <= bytes.length; i++) {
    await through([bytes.subarray(0, i), bytes.subarray(i)]).then(() => {}, (err: { reason?: string }) => { if (err.reason === reason) refused++ })
  }
  t.equal(refused, bytes.length + 1, 'refused at every split')
  await t.rejects(through(Array.from(bytes, (b) => Buffer.from([b]))), { name: 'HostileAnswer', reason }, 'refused one byte at a time')
}

t.test('(a) whitespace beyond the bound around a nextLink member fails the answer, never passes it through', async (t) => {
  const bodies = [
    `{"value":[1],"@odata.nextLink"${' '.repeat(65)}:"${EVIL}"}`,
    `{"value":[1],"@odata.nextLink":${' '.repeat(65)}"${EVIL}"}`,
    `{"value":[1],"@odata.nextLink"${'\r\n\t '.repeat(17)}: "${EVIL}"}`,
    `{"value":[1],"odata.NextLink":${' '.repeat(2000)}"${EVIL}"}`,
    `{"value":[1],"@odata.next\\u004cink"${' '.repeat(65)}:"${EVIL}"}`
  ]
  for (const body of bodies) {
    t.match(Object.values(JSON.parse(body)), [[1], EVIL], 'a parser reads the link')
    await refusedEverywhere(t, body, 'next_link_whitespace')
  }
  // Up to the bound the member is read and the link removed.
  const outs = await everySplit(`{"value":[1],"@odata.nextLink"${' '.repeat(64)}:${' '.repeat(64)}"${EVIL}"}`)
  t.equal(outs.size, 1)
  t.same(JSON.parse([...outs][0] as string), { value: [1] })
})

t.test('(e) nextLink keys in any ASCII case and spelled odata.nextLink are rewritten or removed, at every split', async (t) => {
  for (const key of ['@odata.NextLink', 'odata.nextLink', '@ODATA.NEXTLINK', 'Odata.Nextlink', '@oData.nextLINK']) {
    const outs = await everySplit(`{"a":1, "${key}" : "${EVIL}","value":[{"${key}":"${GOOD}"}]}`)
    t.equal(outs.size, 1, `${key}: every chunking gives the same bytes`)
    t.same(JSON.parse([...outs][0] as string), { a: 1, value: [{ [key]: GOOD_OUT }] }, key)
  }
  // Not keys a client reads as the nextLink: passed through.
  const other = '{"x@odata.nextLink":"https://evil.example/api","@odata.nextLinks":"https://evil.example/api","k":"odata.nextLink"}'
  t.equal(await through([other]), other)
  for (const key of ['@odata.Next\\u004cink', 'odata.next\\u004cink', '\\u006fdata.NEXTLINK']) {
    await refusedEverywhere(t, `{"value":[1],"${key}":"${EVIL}"}`, 'next_link_key')
  }
})

t.test('(d) a body that starts like UTF-16 or UTF-32 fails the answer (clients detect those; the scanner reads UTF-8)', async (t) => {
  const json = `{"value":[1],"@odata.nextLink":"${EVIL}"}`
  const forms: Array<[string, Buffer]> = [
    ['utf-16le with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')])],
    ['utf-16le', Buffer.from(json, 'utf16le')],
    ['utf-16be', Buffer.from(json, 'utf16le').swap16()],
    ['utf-16be with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(json, 'utf16le').swap16()])],
    ['utf-32le', Buffer.concat(Array.from(json, (c) => Buffer.from([c.charCodeAt(0), 0, 0, 0])))]
  ]
  for (const [name, bytes] of forms) {
    t.throws(() => rewriteNextLinks(bytes, rewrite), { name: 'HostileAnswer', reason: 'charset' }, name)
    await t.rejects(through(Array.from(bytes, (b) => Buffer.from([b]))), { name: 'HostileAnswer', reason: 'charset' }, `${name}, one byte at a time`)
  }
  const bom8 = `\ufeff${json}`
  t.same(JSON.parse((await through([bom8])).replace(/^\ufeff/, '')), { value: [1] }, 'a UTF-8 BOM is UTF-8')
})

t.test('a write that fails the answer sends nothing of itself (so an answer refused in its first chunk can still be a 502)', async (t) => {
  const transform = new NextLinkTransform(rewrite)
  const seen: Buffer[] = []
  transform.on('data', (b: Buffer) => seen.push(b))
  const failed = new Promise<Error>((resolve) => transform.once('error', resolve))
  transform.write(Buffer.from(`{"value":[1],"@odata.nextLink":${' '.repeat(65)}"${EVIL}"}`))
  t.match(await failed, { name: 'HostileAnswer', reason: 'next_link_whitespace' })
  t.same(seen, [], 'nothing emitted')
})

t.test('@odata.deltaLink is treated like the nextLink: rewritten on a known host, removed elsewhere, at every split', async (t) => {
  const evil = await everySplit('{"value":[1],"@odata.deltaLink":"https://evil.example.com/api/alerts?$deltatoken=1"}')
  t.equal(evil.size, 1)
  t.same(JSON.parse([...evil][0] as string), { value: [1] })
  const spellings = await everySplit(`{"odata.DeltaLink":"${EVIL}","@odata.deltaLink":"${GOOD}","v":1}`)
  t.equal(spellings.size, 1)
  t.same(JSON.parse([...spellings][0] as string), { '@odata.deltaLink': GOOD_OUT, v: 1 })
  t.throws(() => rewriteNextLinks(Buffer.from(`{"@odata.\\u0064eltaLink":"${EVIL}"}`), rewrite), { name: 'HostileAnswer', reason: 'next_link_key' }, 'an escaped deltaLink key is refused')
})

t.test('long bodies in big chunks (the path that searches a chunk without joining the carry to it) give the same bytes at every split', async (t) => {
  const pad = `"pad":"${'p'.repeat(400)}"`
  for (const [name, body] of [...placements.map(([n, b]) => [n, b]), ['rewritten', `{"@odata.nextLink":"${GOOD}"}`]] as Array<[string, string]>) {
    // The member after and before long values, so that each split leaves a carry ahead of a chunk longer than the seam.
    const long = Buffer.from(`{${pad},"x":${body},${pad},"y":${body}}`)
    const whole = rewriteNextLinks(long, rewrite).toString()
    const outs = new Set<string>()
    for (let i = 0; i <= long.length; i++) outs.add(await through([long.subarray(0, i), long.subarray(i)]))
    for (let size = 150; size <= 260; size += 11) {
      const chunks: Buffer[] = []
      for (let i = 0; i < long.length; i += size) chunks.push(long.subarray(i, i + size))
      outs.add(await through(chunks))
    }
    t.same([...outs], [whole], `${name}: every chunking gives the whole-body bytes`)
    t.doesNotThrow(() => JSON.parse(whole), `${name}: valid JSON`)
  }
})

t.test('a nextLink key spelled with \\u escapes between long values fails the answer at every split', async (t) => {
  const body = Buffer.from(`{"a":"${'x'.repeat(300)}","@odata.next\\u004cink":"https://evil.example/api","b":"${'y'.repeat(300)}"}`)
  let refused = 0
  for (let i = 0; i <= body.length; i++) {
    await through([body.subarray(0, i), body.subarray(i)]).then(() => {}, (err: Error) => { if (err.name === 'HostileAnswer') refused++ })
  }
  t.equal(refused, body.length + 1, 'refused at every split')
})
