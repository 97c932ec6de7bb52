import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import t from 'tap'
import { CURSOR_BOUNDS, decodeCursor, encodeCursor, tailOf, targetFits, type CursorState } from '../../src/fleet/cursor.js'

const key = randomBytes(32)
const NOW = 1_800_000_000
const id = (n: number): string => `${n.toString(16).padStart(8, '0')}-${randomBytes(2).toString('hex')}-4${randomBytes(2).toString('hex').slice(1)}-8${randomBytes(2).toString('hex').slice(1)}-${randomBytes(6).toString('hex')}`
const decode = (text: string, client = 'siem', now = NOW): ReturnType<typeof decodeCursor> => decodeCursor(text, client, key, now, 86_400)

const state: CursorState = {
  target: '/api/alerts?$top=100&$filter=lastUpdateTime gt 2025-01-01',
  frontier: id(9),
  active: [
    { tenant: id(3), link: '/api/alerts?$top=100&$filter=lastUpdateTime gt 2025-01-01&$skip=100', failures: 0 },
    { tenant: id(5), failures: 2 },
    { tenant: id(9), link: '/api/machines/SoftwareVulnerabilitiesByMachine?$skiptoken=eyJFeHBvcnQ', failures: 0 }
  ],
  issuedAt: NOW - 60
}

t.test('a cursor round-trips for the client that got it', async (t) => {
  const text = encodeCursor(state, 'siem', key)
  t.match(text, /^[A-Za-z0-9_-]+$/, 'URL-safe, opaque')
  t.notOk(text.includes('alerts'), 'compressed and encoded: the query is not readable in it')
  t.same(decode(text), { ok: true, state: { ...state, active: state.active.map((p) => ({ failures: 0, ...p })) } })
  const narrowed = { ...state, narrowing: 'ab'.repeat(16) }
  t.same(decode(encodeCursor(narrowed, 'siem', key)), { ok: true, state: { ...narrowed, active: state.active.map((p) => ({ failures: 0, ...p })) } }, 'the narrowing travels with it')
})

t.test('tampering, another client, age and garbage are refused', async (t) => {
  const text = encodeCursor(state, 'siem', key)
  for (let i = 0; i < text.length; i += 7) {
    const flipped = text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1)
    t.equal(decode(flipped).ok, false, `character ${i} changed`)
  }
  t.same(decode(text, 'ops'), { ok: false, reason: 'signature' }, "another client's cursor")
  t.same(decodeCursor(text, 'siem', randomBytes(32), NOW, 86_400), { ok: false, reason: 'signature' }, 'another key (another gateway)')
  t.same(decode(text, 'siem', NOW + 86_400), { ok: false, reason: 'expired' })
  t.same(decode(encodeCursor({ ...state, issuedAt: NOW + 3600 }, 'siem', key)), { ok: false, reason: 'expired' }, 'from the future')
  for (const junk of ['', '!!!', 'A'.repeat(CURSOR_BOUNDS.maxChars + 1), Buffer.from([1, 2, 3]).toString('base64url')]) {
    t.equal(decode(junk).ok, false, `junk of ${junk.length} chars`)
  }
})

t.test('a validly signed payload of the wrong shape is refused (a leaked key cannot crash the gateway)', async (t) => {
  const { createHmac } = await import('node:crypto')
  const forge = (body: unknown): string => {
    const payload = deflateRawSync(Buffer.from(JSON.stringify(body)))
    const mac = createHmac('sha256', key).update('fleet-cursor\u0000siem\u0000').update(payload).digest().subarray(0, 16)
    return Buffer.concat([Buffer.from([1]), mac, payload]).toString('base64url')
  }
  const good = { v: 1, q: '/api/alerts', f: '', a: [], t: NOW }
  t.equal(decode(forge(good)).ok, true, 'the forger itself is right')
  for (const bad of [
    { ...good, v: 2 }, { ...good, q: 5 }, { ...good, f: 'not-hex' }, { ...good, a: 'x' },
    { ...good, a: [['zz', 0]] }, { ...good, n: 'x' }, { ...good, n: 5 }, { ...good, a: [['0'.repeat(32), -1]] }, { ...good, a: [['0'.repeat(32), 0, 99, 'x']] },
    { ...good, a: Array.from({ length: CURSOR_BOUNDS.maxInProgress + 1 }, () => ['0'.repeat(32), 0]) },
    { ...good, a: [['0'.repeat(32), 0, 0, 'x'.repeat(CURSOR_BOUNDS.maxTail + 1)]] }, [1, 2], null
  ]) t.equal(decode(forge(bad)).ok, false, JSON.stringify(bad).slice(0, 60))
  // A deflate bomb: tiny when compressed, far beyond any cursor once inflated.
  const bomb = forge({ ...good, q: 'x'.repeat(1_000_000) })
  t.ok(bomb.length < CURSOR_BOUNDS.maxChars)
  t.same(decode(bomb), { ok: false, reason: 'malformed' })
})

t.test('the bound holds at its worst: most tenants in progress, longest target and tails, nothing compressible', async (t) => {
  const noise = (n: number): string => randomBytes(n).toString('base64url').slice(0, n)
  const target = `/api/alerts?$filter=${noise(CURSOR_BOUNDS.maxTarget - 20)}`
  t.ok(targetFits(target))
  const active = Array.from({ length: CURSOR_BOUNDS.maxInProgress }, (_, i) => ({
    tenant: id(i),
    failures: 999,
    link: i < 2 ? `/api/x?${noise(CURSOR_BOUNDS.tailBudget / 2 - 7)}` : undefined
  }))
  const text = encodeCursor({ target, frontier: id(999), active, issuedAt: NOW }, 'a-client-name-of-64-characters-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', key)
  t.ok(text.length <= CURSOR_BOUNDS.maxChars, `worst case ${text.length} chars`)
  t.throws(() => encodeCursor({ target, frontier: '', active: [...active, { tenant: id(1000) }], issuedAt: NOW }, 'siem', key), RangeError)
  t.throws(() => encodeCursor({ target: `/api/alerts?${'x'.repeat(CURSOR_BOUNDS.maxTarget)}`, frontier: '', active: [], issuedAt: NOW }, 'siem', key), RangeError)
  t.notOk(targetFits(`/api/alerts?$filter=${'"'.repeat(600)}`), 'measured as JSON: quotes count twice')
})

t.test('tailOf keeps only what a link adds to the target', async (t) => {
  t.same(tailOf('/api/alerts?$top=5', '/api/alerts?$top=5&$skip=10'), { keep: 18, tail: '&$skip=10' })
  t.same(tailOf('/api/alerts?$top=5', '/api/machines?$skip=1'), { keep: 5, tail: 'machines?$skip=1' })
  t.same(tailOf('/api/alerts', '/api/alerts'), { keep: 11, tail: '' })
})
