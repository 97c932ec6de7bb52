import t, { type Test } from 'tap'
import { Agent } from 'undici'
import { Client, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client'
import { expectedCounts, fleetGet, fleetTenant, startFleetWorld, MANY_ALERTS, MANY_PAGES, NOT_ONBOARDED, THROTTLED, US_ONLY, type FleetWorld } from '../fleet-world.js'
import { call } from '../helper.js'

// One gateway for the file: 50 simulated tenants in two regions (even ones pinned to eu, odd ones free
// with us preferred, one pinned to us), one not onboarded, one throttled by Defender, one with many pages.

interface Report {
  tenants: number
  done: number
  inProgress: number
  notStarted: number
  items: number
  complete: string[]
  pending: Array<{ tenantId: string, reason: string, retryAfter?: number }>
  failed: Array<{ tenantId: string, error: { code: string, message: string }, retryAfter?: number, willRetry: boolean }>
}
interface Page { value: Array<Record<string, unknown>>, '@odata.nextLink'?: string, '@gateway.fleet': Report }

let w: FleetWorld
t.before(async () => { w = await startFleetWorld() })
t.teardown(async () => { await w?.close() })

/** Items by tenant, refusing any (tenant, id) seen twice. */
function collect (t: Test, seen: Map<string, Set<string>>, items: ReadonlyArray<Record<string, unknown>>): void {
  for (const item of items) {
    const tenant = item.gatewayTenantId as string
    const ids = seen.get(tenant) ?? new Set<string>()
    if (ids.has(item.id as string)) t.fail(`item ${String(item.id)} of ${tenant} came twice`)
    ids.add(item.id as string)
    seen.set(tenant, ids)
  }
}

function sameCounts (t: Test, seen: Map<string, Set<string>>): void {
  const got = new Map([...seen].map(([tenant, ids]) => [tenant, ids.size]))
  t.same(Object.fromEntries([...got].sort()), Object.fromEntries([...expectedCounts()].sort()), 'every item of every readable tenant, once')
}

t.test('a SIEM (plain HTTP client) follows nextLinks to the end: every item once, every failure reported', async (t) => {
  const seen = new Map<string, Set<string>>()
  const reports: Report[] = []
  const us = w.sim.regions.us!
  w.sim.regions.eu!.setTenantFault(THROTTLED, { status: 429, times: 1, retryAfter: 1 })
  let path: string | undefined = '/fleet/api/alerts?$top=5'
  let usDown = false
  const started = performance.now()
  let slowest = 0
  for (let page = 1; path !== undefined && page <= 200; page++) {
    const pageStart = performance.now()
    const answer = await fleetGet(w, path, w.keys.siem)
    slowest = Math.max(slowest, performance.now() - pageStart)
    t.equal(answer.status, 200, `page ${page}`)
    const body = answer.json() as Page
    collect(t, seen, body.value)
    reports.push(body['@gateway.fleet'])
    // Region us goes down after the first page and comes back once the tenant pinned to it was reported.
    if (page === 1) { us.setFault({ kind: 'reset' }); usDown = true }
    if (usDown && body['@gateway.fleet'].failed.some((f) => f.tenantId === US_ONLY)) { us.setFault(undefined); usDown = false }
    const next = body['@odata.nextLink']
    path = next === undefined ? undefined : next.slice(w.url.length)
  }
  t.equal(path, undefined, 'the iteration ended')
  sameCounts(t, seen)
  t.equal(seen.get(MANY_PAGES)?.size, MANY_ALERTS)
  const failed = reports.flatMap((r) => r.failed)
  const notOnboarded = failed.filter((f) => f.tenantId === NOT_ONBOARDED)
  t.ok(notOnboarded.length >= 1 && notOnboarded.every((f) => f.error.code === 'TenantNotOnboarded'), 'not onboarded: reported with its code')
  t.equal(notOnboarded.at(-1)?.willRetry, false, 'and given up after fleet.maxTenantFailures')
  t.match(failed.find((f) => f.tenantId === THROTTLED), { error: { code: 'TooManyRequests' }, retryAfter: 1, willRetry: true }, "Defender's 429 reported with Retry-After")
  t.match(failed.find((f) => f.tenantId === US_ONLY), { error: { code: 'UpstreamUnavailable' }, willRetry: true }, 'the tenant whose region went down is reported')
  const last = reports.at(-1)!
  t.match(last, { tenants: 50, done: 50, inProgress: 0, notStarted: 0 })
  const items = [...seen.values()].reduce((n, ids) => n + ids.size, 0)
  t.comment(`50 tenants: ${items} items in ${reports.length} pages; ${failed.length} tenant failures reported ` +
    `(${new Set(failed.map((f) => f.tenantId)).size} tenants); slowest page ${slowest.toFixed(0)} ms, all ${(performance.now() - started).toFixed(0)} ms`)
  const metrics = await call(w.adminUrl, '/metrics')
  t.match(metrics.text, /defender_gateway_fleet_pages_total\{client="siem",last="true"\} 1/)
  t.match(metrics.text, /defender_gateway_fleet_tenant_reads_total\{outcome="given_up"\} 1/)
  t.match(metrics.text, new RegExp(`defender_gateway_fleet_items_total\\{route="[^"]+"\\} ${items}`))
})

t.test("the Graph SDK's PageIterator gets every item once", async (t) => {
  const dispatcher = new Agent({ connect: { ca: w.ca } })
  t.teardown(async () => { await dispatcher.close() })
  const host = new URL(w.url).host
  const client = Client.init({
    authProvider: (done) => { done(null, w.keys.siem) },
    baseUrl: w.url,
    customHosts: new Set([host.split(':')[0]!]),
    fetchOptions: { dispatcher } as never
  })
  const first = await client.api(`${w.url}/fleet/api/alerts?$top=7`).get() as PageCollection
  const seen = new Map<string, Set<string>>()
  const items: Array<Record<string, unknown>> = []
  const iterator = new PageIterator(client, first, (item: Record<string, unknown>) => { items.push(item); return true })
  await iterator.iterate()
  t.ok(iterator.isComplete(), 'the iterator reached the end')
  collect(t, seen, items)
  sameCounts(t, seen)
})

t.test('a tampered cursor, another client\'s cursor and extra query options are refused', async (t) => {
  const first = (await fleetGet(w, '/fleet/api/alerts?$top=2', w.keys.siem)).json() as Page
  const next = first['@odata.nextLink']!.slice(w.url.length)
  const cursor = next.split('gatewayCursor=')[1]!
  const flipped = `${cursor.slice(0, 30)}${cursor[30] === 'A' ? 'B' : 'A'}${cursor.slice(31)}`
  const tampered = await fleetGet(w, next.replace(cursor, flipped), w.keys.siem)
  t.equal(tampered.status, 400)
  t.match(tampered.json(), { error: { code: 'BadRequest', message: /cursor/ } })
  const stolen = await fleetGet(w, next, w.keys.ops)
  t.equal(stolen.status, 400, "another client's cursor")
  t.match(stolen.json(), { error: { message: /signature/ } })
  t.equal((await fleetGet(w, `${next}&$top=9`, w.keys.siem)).status, 400, 'options beside the cursor')
  t.equal((await fleetGet(w, next.replace('/alerts', '/machines'), w.keys.siem)).status, 400, 'the cursor on another path')
  t.equal((await fleetGet(w, next, w.keys.siem)).status, 200, 'the genuine cursor still works')
})

t.test('a client allowed 3 tenants never sees a 4th, with or without the narrowing header', async (t) => {
  const allowed = [fleetTenant(0), fleetTenant(1), fleetTenant(2)]
  const all = await fleetGet(w, '/fleet/api/alerts', w.threeKey)
  t.equal(all.status, 200)
  const body = all.json() as Page
  t.same([...new Set(body.value.map((i) => i.gatewayTenantId))].sort(), allowed)
  t.equal(body['@gateway.fleet'].tenants, 3)
  const narrowed = (await fleetGet(w, '/fleet/api/alerts', w.threeKey, { 'x-gateway-tenants': 'fleet-1' })).json() as Page
  t.same([...new Set(narrowed.value.map((i) => i.gatewayTenantId))], [fleetTenant(1)], 'narrowed to one by name')
  const widened = await fleetGet(w, '/fleet/api/alerts', w.threeKey, { 'x-gateway-tenants': `${fleetTenant(1)},${fleetTenant(3)}` })
  t.equal(widened.status, 403, 'a header naming a 4th tenant is refused, not obeyed')
  t.match(widened.json(), { error: { code: 'TenantNotAllowed' } })
  t.equal((await fleetGet(w, '/fleet/api/machines', w.threeKey)).status, 403, 'a route outside its permissions')
  t.equal((await fleetGet(w, '/fleet/api/alerts/x/../../machines', w.keys.siem)).status, 400, 'dot segments')
  t.equal((await fleetGet(w, '/fleet/api/nothing', w.keys.siem)).status, 403, 'outside the catalogue')
  t.equal((await call(w.url, '/fleet/api/alerts', { ca: w.ca })).status, 401, 'no key')
  t.equal((await call(w.url, '/fleet/api/alerts', { ca: w.ca, method: 'POST', headers: { 'x-api-key': w.keys.siem }, body: '{}' })).status, 405)
})

t.test("a gateway token for 'organizations' reads the fleet at Defender's root layout, and only the fleet", async (t) => {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'siem', client_secret: w.keys.siem, scope: 'https://api.securitycenter.microsoft.com/.default' })
  const issued = await call(w.url, '/organizations/oauth2/v2.0/token', { ca: w.ca, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
  t.equal(issued.status, 200, 'a plain form POST, as a connector sends it')
  const bearer = { authorization: `Bearer ${issued.json().access_token as string}` }
  const seen = new Map<string, Set<string>>()
  let path: string | undefined = '/api/alerts?$top=20'
  for (let page = 1; path !== undefined && page <= 100; page++) {
    const answer = await call(w.url, path, { ca: w.ca, headers: bearer })
    t.equal(answer.status, 200)
    const body = answer.json() as Page
    collect(t, seen, body.value)
    const next = body['@odata.nextLink']
    if (next !== undefined) t.match(next, `${w.url}/api/alerts?gatewayCursor=`, 'links keep the root layout')
    path = next?.slice(w.url.length)
  }
  t.equal(path, undefined)
  sameCounts(t, seen)
  const perTenant = await call(w.url, `/tenants/${fleetTenant(0)}/api/alerts`, { ca: w.ca, headers: bearer })
  t.equal(perTenant.status, 403, 'never a per-tenant request')
  t.match(perTenant.json(), { error: { code: 'TenantNotAllowed' } })
  const [head, , sig] = (issued.json().access_token as string).split('.')
  const forged = Buffer.from(JSON.stringify({ tid: 'organizations', appid: 'siem' })).toString('base64url')
  const refused = await call(w.url, '/api/alerts', { ca: w.ca, headers: { authorization: `Bearer ${head!}.${forged}.${sig!}` } })
  t.equal(refused.status, 401, 'a forged organizations token is refused')
})

t.test('a page answers at its time limit with what it has; the tenant still reading is read again on the next page', async (t) => {
  const eu = w.sim.regions.eu!
  let release: () => void = () => {}
  const until = new Promise<void>((resolve) => { release = resolve })
  let held!: () => void
  const arrived = new Promise<void>((resolve) => { held = resolve })
  eu.setFault({ kind: 'wait', until, held })
  t.teardown(() => { release(); eu.setFault(undefined) })
  const narrow = { 'x-gateway-tenants': 'fleet-0,fleet-1' } // fleet-0 pinned to eu, fleet-1 read in us
  const first = (await fleetGet(w, '/fleet/api/alerts', w.keys.siem, narrow)).json() as Page
  await arrived
  t.same([...new Set(first.value.map((i) => i.gatewayTenantId))], [fleetTenant(1)], 'the tenant that answered is on the page')
  t.match(first['@gateway.fleet'], { complete: [fleetTenant(1)], pending: [{ tenantId: fleetTenant(0), reason: 'time' }], failed: [] })
  eu.setFault(undefined)
  release()
  const second = (await fleetGet(w, first['@odata.nextLink']!.slice(w.url.length), w.keys.siem, narrow)).json() as Page
  t.equal(second.value.length, 12)
  t.ok(second.value.every((i) => i.gatewayTenantId === fleetTenant(0)))
  t.equal(second['@odata.nextLink'], undefined, 'done')
})

t.test('a hostile Defender: a forged tenant field, a nextLink to a route the client may not read, a body that is not JSON', async (t) => {
  const eu = w.sim.regions.eu!
  t.teardown(() => { eu.setFault(undefined) })
  const narrow = { 'x-gateway-tenants': 'fleet-0' } // pinned to eu
  const hostile = { value: [{ id: 'x1', gatewayTenantId: fleetTenant(2) }], '@odata.nextLink': 'https://evil.example/api/machines?$top=1' }
  eu.setFault({ kind: 'answer', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(hostile)) })
  eu.reset()
  const page = (await fleetGet(w, '/fleet/api/alerts', w.threeKey, narrow)).json() as Page
  t.same(page.value, [{ id: 'x1', gatewayTenantId: fleetTenant(0) }], 'the item says where it really came from')
  t.match(page['@gateway.fleet'].failed, [{ tenantId: fleetTenant(0), error: { code: 'UpstreamUnavailable', message: /nextLink was refused/ }, willRetry: false }])
  t.equal(page['@odata.nextLink'], undefined, 'the tenant is left out of the rest of the iteration')
  t.notOk(eu.received.some((r) => r.url.includes('machines')), 'the refused link was never called')
  eu.setFault({ kind: 'answer', headers: { 'content-type': 'text/html' }, body: Buffer.from('<html>sign in</html>') })
  const html = (await fleetGet(w, '/fleet/api/alerts', w.threeKey, narrow)).json() as Page
  t.same(html.value, [])
  t.match(html['@gateway.fleet'].failed, [{ error: { code: 'UpstreamUnavailable', message: /other than a JSON object/ }, willRetry: false }])
})

t.test('a hostile Defender: JSON nested 200,000 deep is reported, the page completes, the gateway lives on', async (t) => {
  const eu = w.sim.regions.eu!
  t.teardown(() => { eu.setFault(undefined) })
  const deep = Buffer.from(`{"value":[${'['.repeat(200_000)}${']'.repeat(200_000)}]}`)
  eu.setFault({ kind: 'answer', headers: { 'content-type': 'application/json' }, body: deep })
  const narrow = { 'x-gateway-tenants': 'fleet-0,fleet-1' } // fleet-0 pinned to eu, fleet-1 read in us
  const answer = await fleetGet(w, '/fleet/api/alerts', w.threeKey, narrow)
  t.equal(answer.status, 200)
  const page = answer.json() as Page
  t.ok(page.value.every((i) => i.gatewayTenantId === fleetTenant(1)) && page.value.length === 12, 'the other tenant is on the page')
  t.match(page['@gateway.fleet'], { complete: [fleetTenant(1)], failed: [{ tenantId: fleetTenant(0), error: { code: 'UpstreamUnavailable', message: /not usable/ }, willRetry: false }] })
  t.equal(page['@odata.nextLink'], undefined, 'the hostile tenant is left out of the rest of the iteration')
  t.equal((await fleetGet(w, '/fleet/api/alerts', w.threeKey, { 'x-gateway-tenants': 'fleet-1' })).status, 200, 'the gateway still serves')
})

t.test('fleet reads take API keys and organizations tokens for Defender, at the root layout as it matches paths', async (t) => {
  const token = async (tenant: string, scope: string): Promise<Record<string, string>> => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'siem', client_secret: w.keys.siem, scope })
    const issued = await call(w.url, `/${tenant}/oauth2/v2.0/token`, { ca: w.ca, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() })
    t.equal(issued.status, 200, `a token for ${tenant} ${scope}`)
    return { authorization: `Bearer ${issued.json().access_token as string}` }
  }
  const defender = 'https://api.securitycenter.microsoft.com/.default'
  const fleet = await token('organizations', defender)
  const upper = await call(w.url, '/API/alerts?$top=20', { ca: w.ca, headers: fleet })
  t.equal(upper.status, 200, "an organizations token at /API/alerts, as a tenant's token there")
  t.match((upper.json() as Page)['@odata.nextLink'], `${w.url}/api/alerts?gatewayCursor=`)
  const perTenant = await token(fleetTenant(0), defender)
  t.equal((await call(w.url, '/API/alerts', { ca: w.ca, headers: perTenant })).status, 200, "a tenant's token at /API/alerts")
  const tenantOnFleet = await call(w.url, '/fleet/api/alerts', { ca: w.ca, headers: perTenant })
  t.equal(tenantOnFleet.status, 403, "a tenant's token does not read the fleet")
  t.match(tenantOnFleet.json(), { error: { code: 'TenantNotAllowed', message: /organizations/ } })
  const graph = await token(fleetTenant(0), 'https://graph.microsoft.com/.default')
  const graphOnFleet = await call(w.url, '/fleet/api/alerts', { ca: w.ca, headers: graph })
  t.equal(graphOnFleet.status, 401, 'a Graph token is refused as on Defender routes')
  t.match(graphOnFleet.json(), { error: { code: 'GatewayUnauthenticated', message: /Microsoft Graph/ } })
})

t.test('the narrowing belongs to the iteration: a follow-up with another header is refused, the same set goes on to the end', async (t) => {
  const nextOf = (answer: { json: () => unknown }): string => ((answer.json() as Page)['@odata.nextLink'] ?? '').slice(w.url.length)
  const wide = await fleetGet(w, '/fleet/api/alerts?$top=5', w.threeKey)
  const added = await fleetGet(w, nextOf(wide), w.threeKey, { 'x-gateway-tenants': 'fleet-1' })
  t.equal(added.status, 400, 'a header on page 2 only')
  t.match(added.json(), { error: { code: 'BadRequest', message: /X-Gateway-Tenants/i } })
  const narrow = { 'x-gateway-tenants': 'fleet-0,fleet-1' }
  const first = await fleetGet(w, '/fleet/api/alerts?$top=5', w.threeKey, narrow)
  t.equal((await fleetGet(w, nextOf(first), w.threeKey)).status, 400, 'the header dropped on page 2')
  t.equal((await fleetGet(w, nextOf(first), w.threeKey, { 'x-gateway-tenants': 'fleet-1' })).status, 400, 'another set on page 2')
  const seen = new Map<string, Set<string>>()
  collect(t, seen, (first.json() as Page).value)
  let path = nextOf(first)
  for (let page = 2; path !== '' && page <= 20; page++) {
    const answer = await fleetGet(w, path, w.threeKey, { 'x-gateway-tenants': `${fleetTenant(1)}, ${fleetTenant(0)}` })
    t.equal(answer.status, 200, `page ${page}: the same set, spelled by id`)
    collect(t, seen, (answer.json() as Page).value)
    path = nextOf(answer)
  }
  t.same(Object.fromEntries([...seen].map(([k, v]) => [k, v.size])), { [fleetTenant(0)]: 12, [fleetTenant(1)]: 12 }, 'every item of the two tenants, none of the third')
})

t.test('a tenant withdrawn from the client by a reload mid-iteration is reported, not silently dropped', async (t) => {
  const original = w.configWith((raw) => raw)
  t.teardown(() => { w.gateway.reload(original) })
  const first = (await fleetGet(w, '/fleet/api/alerts?$top=5', w.threeKey)).json() as Page
  t.same(first['@gateway.fleet'].pending.map((p) => p.tenantId).sort(), [fleetTenant(0), fleetTenant(1), fleetTenant(2)])
  w.gateway.reload(w.configWith((raw) => ({ ...raw, clients: raw.clients.map((c: Record<string, any>) => c.name === 'three' ? { ...c, tenants: [fleetTenant(0), fleetTenant(1)] } : c) })))
  const second = await fleetGet(w, first['@odata.nextLink']!.slice(w.url.length), w.threeKey)
  t.equal(second.status, 200)
  const page = second.json() as Page
  t.notOk(page.value.some((i) => i.gatewayTenantId === fleetTenant(2)), 'no more of its items')
  t.match(page['@gateway.fleet'].failed, [{ tenantId: fleetTenant(2), error: { code: 'TenantNotAllowed' }, willRetry: false }], 'reported as left out')
})

t.test('tenant reads are bounded process-wide (fleet.maxTenantReads): pages of two clients share the slots, the rest wait', async (t) => {
  const regions = [w.sim.regions.eu!, w.sim.regions.us!]
  let release: () => void = () => {}
  const until = new Promise<void>((resolve) => { release = resolve })
  let held = 0
  for (const region of regions) region.setFault({ kind: 'wait', until, held: () => { held++ } })
  t.teardown(() => { release(); for (const region of regions) region.setFault(undefined) })
  const busyBefore = busyCount((await call(w.adminUrl, '/metrics')).text)
  // 2 pages of siem and 1 of three, each wanting 8 (or 3) reads at once: 19 wanted, 8 slots.
  const pages = [fleetGet(w, '/fleet/api/alerts', w.keys.siem), fleetGet(w, '/fleet/api/alerts?$top=3', w.keys.siem), fleetGet(w, '/fleet/api/alerts', w.threeKey)]
  // Wait until the slots' reads reached Defender and every read beyond them was turned away at least once.
  const busy = async (): Promise<number> => busyCount((await call(w.adminUrl, '/metrics')).text) - busyBefore
  for (let i = 0; i < 2000; i++) {
    if (held >= 8 && await busy() >= 11) break // held grows in the regions' handlers meanwhile
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.ok(await busy() >= 11, 'the reads beyond the slots were deferred')
  t.equal(held, 8, 'Defender saw exactly fleet.maxTenantReads reads at once, whatever the pages and clients')
  release()
  for (const page of await Promise.all(pages)) {
    t.equal(page.status, 200)
    const report = (page.json() as Page)['@gateway.fleet']
    t.ok(report.pending.every((p) => ['more', 'busy', 'time', 'budget'].includes(p.reason)), 'a tenant without a slot is pending, read on a later page')
  }
})

function busyCount (metrics: string): number {
  return Number(/defender_gateway_fleet_tenant_reads_total\{outcome="busy"\} (\d+)/.exec(metrics)?.[1] ?? 0)
}
