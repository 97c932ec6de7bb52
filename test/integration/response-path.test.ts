import t from 'tap'
import { request as httpRequest } from 'node:http'
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import { call, startWorld, withKey, TENANT_A, type TestWorld } from '../helper.js'
import { until } from '../redis-clients.js'

let world: TestWorld
t.before(async () => { world = await startWorld({ sim: { defender: { ratePerMinute: 1_000_000 } } }) })
t.teardown(async () => { await world.close() })

/** Follows @odata.nextLink exactly as given, like a SIEM connector, and collects every item. */
async function collect (firstUrl: string, key: string): Promise<{ items: Array<Record<string, unknown>>, pages: number, links: string[] }> {
  const items: Array<Record<string, unknown>> = []
  const links: string[] = []
  let next: string | undefined = firstUrl
  let pages = 0
  while (next !== undefined && pages < 1000) {
    const url: URL = new URL(next)
    const res = await call(url.origin, url.pathname + url.search, { headers: withKey(key) })
    if (res.status !== 200) throw new Error(`page ${pages} answered ${res.status}: ${res.text.slice(0, 200)}`)
    const body = res.json()
    items.push(...body.value)
    next = body['@odata.nextLink']
    if (next !== undefined) links.push(next)
    pages++
  }
  return { items, pages, links }
}

t.test('a client following nextLink from the first page gets exactly all 25,000 alerts', async (t) => {
  world.sim.regions.eu!.setAlertCount(TENANT_A, 25_000)
  const { items, pages, links } = await collect(`${world.url}/tenants/${TENANT_A}/api/alerts?$top=1000`, world.keys.siem)
  t.equal(items.length, 25_000)
  t.equal(new Set(items.map((a) => a.id)).size, 25_000, 'no duplicates, none missing')
  t.ok(items.every((a) => a.aadTenantId === TENANT_A))
  t.equal(pages, 25)
  t.ok(links.every((l) => l.startsWith(`${world.url}/tenants/${TENANT_A}/api/alerts?`)), 'every link points at the gateway')
  t.equal(world.sim.regions.eu!.received.filter((r) => r.url.startsWith('/api/alerts?$top=1000')).length, 25, 'paging went through the gateway, page by page')
})

t.test('export-style paging with $skiptoken keeps the token byte for byte', async (t) => {
  world.sim.regions.eu!.setExportCount(TENANT_A, 5000)
  const { items, pages, links } = await collect(`${world.url}/tenants/${TENANT_A}/api/machines/SoftwareInventoryByMachine?pageSize=1000`, world.keys.siem)
  t.equal(items.length, 5000)
  t.equal(pages, 5)
  t.ok(links.every((l) => /\$skiptoken=[A-Za-z0-9%]+$/.test(l)))
  const upstreamUrls = world.sim.regions.eu!.received.map((r) => r.url)
  for (const link of links) t.ok(upstreamUrls.includes(new URL(link).pathname.replace(`/tenants/${TENANT_A}`, '') + new URL(link).search), 'upstream got the link\'s exact path and query')
})

t.test('download links on other hosts are never rewritten', async (t) => {
  const pkg = await call(world.url, `/tenants/${TENANT_A}/api/machineactions/abc/getPackageUri`, { headers: withKey(world.keys.siem) })
  t.equal(pkg.status, 200)
  t.match(pkg.json().value, /^"https:\/\/userrequests-us\.securitycenter\.windows\.com:443\//, 'quoted package link left alone')
  const lr = await call(world.url, `/tenants/${TENANT_A}/api/machineactions/abc/GetLiveResponseResultDownloadLink(index=0)`, { headers: withKey(world.keys.siem) })
  t.equal(lr.status, 200)
  t.match(lr.json().value, /\.blob\.core\.windows\.net\//)
})

t.test('a slow reader applies backpressure; a reader that goes away cancels the upstream', async (t) => {
  const eu = world.sim.regions.eu!
  const total = 60_000
  eu.setExportCount(TENANT_A, total)
  eu.reset()
  const url = new URL(world.url)
  const path = `/tenants/${TENANT_A}/api/machines/SoftwareInventoryByMachine?pageSize=${total}`
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    httpRequest({ host: url.hostname, port: url.port, path, headers: withKey(world.keys.siem) }, resolve).on('error', reject).end()
  })
  t.equal(res.statusCode, 200)
  res.pause()
  let last = -1
  for (let i = 0; i < 100 && eu.streams.recordsWritten !== last; i++) {
    last = eu.streams.recordsWritten
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(eu.streams.recordsWritten < total / 2, `upstream stopped at ${eu.streams.recordsWritten} of ${total} records while the caller did not read`)
  res.destroy()
  await until(() => eu.streams.aborted > 0)
  t.equal(eu.streams.aborted, 1, 'the upstream page was cancelled')
  t.equal(eu.streams.completed, 0)
})

t.test('the caller\'s x-request-id goes upstream and comes back', async (t) => {
  const res = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem, { 'x-request-id': 'siem-run-42.page-1' }) })
  t.equal(res.headers['x-request-id'], 'siem-run-42.page-1')
  t.equal(world.sim.regions.eu!.received.at(-1)!.headers['x-request-id'], 'siem-run-42.page-1')
  const odd = await call(world.url, `/tenants/${TENANT_A}/api/alerts?$top=1`, { headers: withKey(world.keys.siem, { 'x-request-id': 'has spaces and "quotes"' }) })
  t.match(odd.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unusable id is replaced')
})

t.test('compressed answers are rewritten and compressed again the same way', async (t) => {
  const zipped = await startWorld({ sim: { defender: { compress: true } }, config: (base) => ({ ...base, server: { ...base.server, publicUrl: 'https://gw.example.test' } }) })
  t.teardown(async () => { await zipped.close() })
  zipped.sim.regions.eu!.setAlertCount(TENANT_A, 50)
  const decoders: Record<string, (b: Buffer) => Buffer> = { gzip: gunzipSync, br: brotliDecompressSync, deflate: inflateSync }
  for (const encoding of ['gzip', 'br', 'deflate']) {
    const url = new URL(zipped.url)
    const raw = await new Promise<{ headers: Record<string, unknown>, body: Buffer }>((resolve, reject) => {
      httpRequest({ host: url.hostname, port: url.port, path: '/tenants/contoso/api/alerts?$top=10', headers: withKey(zipped.keys.siem, { 'accept-encoding': encoding }) }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }))
      }).on('error', reject).end()
    })
    t.equal(raw.headers['content-encoding'], encoding)
    const body = JSON.parse(decoders[encoding]!(raw.body).toString('utf8'))
    t.equal(body.value.length, 10)
    t.equal(body['@odata.nextLink'], 'https://gw.example.test/tenants/contoso/api/alerts?$top=10&$skip=10', `${encoding}: link rewritten to publicUrl`)
  }
})

t.test('request bodies over the limit get 413 in Defender\'s shape', async (t) => {
  const small = await startWorld({ config: (base) => ({ ...base, server: { ...base.server, bodyLimitBytes: 1024 } }) })
  t.teardown(async () => { await small.close() })
  const before = small.sim.regions.eu!.received.length
  const big = JSON.stringify({ Indicators: 'x'.repeat(2000) })
  const declared = await call(small.url, `/tenants/${TENANT_A}/api/advancedqueries/run`, { method: 'POST', headers: withKey(small.keys.siem, { 'content-type': 'application/json' }), body: big })
  t.equal(declared.status, 413)
  t.equal(JSON.parse(declared.text).error.code, 'PayloadTooLarge')
  t.equal(small.sim.regions.eu!.received.length, before, 'a declared oversize body is never forwarded')
  const url = new URL(small.url)
  const chunked = await new Promise<{ status: number, text: string }>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: `/tenants/${TENANT_A}/api/advancedqueries/run`, headers: withKey(small.keys.siem, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }) }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() }).on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    for (let i = 0; i < 8; i++) req.write('x'.repeat(512))
    req.end()
  })
  t.equal(chunked.status, 413)
  t.equal(JSON.parse(chunked.text).error.code, 'PayloadTooLarge')
  const ok = await call(small.url, `/tenants/${TENANT_A}/api/advancedqueries/run`, { method: 'POST', headers: withKey(small.keys.siem, { 'content-type': 'application/json' }), body: '{"Query":"DeviceInfo | take 1"}' })
  t.equal(ok.status, 200, 'a body under the limit streams through')
})
