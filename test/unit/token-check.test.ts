import t from 'tap'
import { checkToken, sameResource, TokenMismatch, type MismatchDetails } from '../../src/tokens/check.js'
import { createTokenProvider } from '../../src/tokens/token-provider.js'
import type { TokenProviderOptions } from '../../src/tokens/token-provider.js'
import type { AcquiredToken, SharedTokenStore } from '../../src/tokens/types.js'
import { failure, fakeClock, fakeSource, jwt, RESOURCE, settle } from './token-fakes.js'

// Issue 13 item 2: one check (tid = tenant, aud = configured resource) on every path a token takes.
const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const MIN = 60_000
const expected = { tenantId: A, resource: RESOURCE }
const raw = (claims: Record<string, unknown>): AcquiredToken => ({ accessToken: jwt(claims), expiresOn: 1e13 })

t.test('checkToken: the tenant asked for and the configured resource, in the documented spellings only', async (t) => {
  const accepted: Array<[string, Record<string, unknown>]> = [
    ['exact', { tid: A }],
    ['tid in upper case (a GUID is case-insensitive)', { tid: A.toUpperCase() }],
    ['aud with one trailing slash (v1 resource spelling)', { tid: A, aud: `${RESOURCE}/` }]
  ]
  for (const [what, claims] of accepted) t.equal(checkToken(raw(claims), expected, 'entra').tid, A, what)
  const refused: Array<[string, Record<string, unknown>, 'tenant' | 'audience']> = [
    ['another tenant', { tid: B }, 'tenant'],
    ['no tid', { tid: undefined }, 'tenant'],
    ['empty tid', { tid: '' }, 'tenant'],
    ['tid padded', { tid: ` ${A}` }, 'tenant'],
    ['tid that only starts with the tenant', { tid: `${A}0` }, 'tenant'],
    ['tid not a string', { tid: [A] }, 'tenant'],
    ['Microsoft Threat Protection app', { tid: A, aud: 'https://api.security.microsoft.com' }, 'audience'],
    ['the app\'s other identifier URI (documented pitfall)', { tid: A, aud: 'https://userrequestsgraphapi-prd.trafficmanager.net' }, 'audience'],
    ['Microsoft Graph', { tid: A, aud: 'https://graph.microsoft.com' }, 'audience'],
    ['look-alike host', { tid: A, aud: `${RESOURCE}.evil.example` }, 'audience'],
    ['path below the resource', { tid: A, aud: `${RESOURCE}/api` }, 'audience'],
    ['two trailing slashes', { tid: A, aud: `${RESOURCE}//` }, 'audience'],
    ['case-folded', { tid: A, aud: RESOURCE.toUpperCase() }, 'audience'],
    ['with a port', { tid: A, aud: 'https://api.securitycenter.microsoft.com:443' }, 'audience'],
    ['with a newline (URL parsing would drop it)', { tid: A, aud: 'https://api.securitycenter.micro\nsoft.com' }, 'audience'],
    ['no aud', { tid: A, aud: undefined }, 'audience'],
    ['aud as a list', { tid: A, aud: [RESOURCE] }, 'audience']
  ]
  for (const [what, claims, reason] of refused) {
    const err = (() => { try { checkToken(raw(claims), expected, 'shared'); return undefined } catch (e) { return e } })()
    t.ok(err instanceof TokenMismatch, what)
    const mismatch = err as TokenMismatch
    t.match(mismatch.details, { tenantId: A, reason, origin: 'shared' }, what)
    t.equal(mismatch.kind, 'wrong-token')
    t.notOk(mismatch.message.includes(B), 'the caller\'s message never names the other tenant')
    t.equal(mismatch.withRetryAfter(3).retryAfterSeconds, 3)
    t.same((mismatch.withRetryAfter(3) as TokenMismatch).details, mismatch.details, 'a retry hint keeps the details')
  }
  t.equal(sameResource('', ''), false, 'an empty resource matches nothing')
  t.equal(sameResource(`${RESOURCE}/`, `${RESOURCE}/`), true, 'a resource configured with its slash')
  t.equal(sameResource(RESOURCE, `${RESOURCE}/`), true)
  const long = (checkTokenError(raw({ tid: 'x'.repeat(10_000) })) as TokenMismatch).details
  t.equal(long.tokenTenant.length, 200, 'untrusted claim text is cut before it reaches a log line')
  t.match(checkTokenError({ accessToken: `${Buffer.from('{}').toString('base64url')}.bnVsbA.x`, expiresOn: 1 }), { kind: 'invalid-response' }, 'a null payload')
})

function checkTokenError (token: AcquiredToken): unknown {
  try { checkToken(token, expected, 'entra') } catch (err) { return err }
  return undefined
}

interface Store extends SharedTokenStore { readonly tokens: Map<string, AcquiredToken>, readonly calls: string[] }

function store (): Store {
  const s: Store = {
    tokens: new Map(),
    calls: [],
    async get (tenant) { s.calls.push('get'); return s.tokens.get(tenant) },
    async set (tenant, token) { s.calls.push('set'); s.tokens.set(tenant, token) },
    async lock () { s.calls.push('lock'); return true },
    async unlock () { s.calls.push('unlock') },
    async delete (tenant) { s.calls.push('delete'); s.tokens.delete(tenant) }
  }
  return s
}

function setup (extra: Partial<TokenProviderOptions> = {}) {
  const clock = fakeClock()
  const source = fakeSource(clock)
  const mismatches: Array<MismatchDetails & { background: boolean }> = []
  const provider = createTokenProvider({
    source,
    resource: RESOURCE,
    skewMs: 5 * MIN,
    maxTenants: 10,
    backoff: { initialMs: 0, maxMs: 0 },
    events: { hit () {}, acquired () {}, failed () {}, mismatch: (d, background) => mismatches.push({ ...d, background }) },
    now: () => clock.now,
    schedule: clock.schedule,
    random: () => 0,
    ...extra
  })
  return { clock, source, provider, mismatches }
}

const foreign = async (): Promise<AcquiredToken> => raw({ tid: B, roles: ['Machine.Isolate'] })
const otherResource = async (): Promise<AcquiredToken> => raw({ tid: A, aud: 'https://graph.microsoft.com' })

t.test('regression: first acquisition of another tenant\'s token is refused, not cached, not published', async (t) => {
  const shared = store()
  const { source, provider, mismatches } = setup({ shared })
  source.next.push(foreign)
  t.match(await failure(provider.get(A, 'r')), { kind: 'wrong-token' })
  t.equal(shared.tokens.size, 0, 'never published')
  t.ok(shared.calls.includes('delete'), 'the shared key is purged as well')
  t.match(mismatches, [{ tenantId: A, tokenTenant: B, reason: 'tenant', origin: 'entra', background: false }])
  source.next.push(otherResource)
  t.match(await failure(provider.get(A, 'r')), { kind: 'wrong-token' }, 'not cached: the next request asked again')
  t.match(mismatches[1], { reason: 'audience', audience: 'https://graph.microsoft.com' })
  t.equal((await provider.get(A, 'r')).tid, A, 'a good token afterwards is used')
  t.equal(source.calls.length, 3)
})

t.test('regression: a refresh-ahead that brings another tenant\'s token purges the cached one too', async (t) => {
  const { clock, source, provider, mismatches } = setup()
  await provider.get(A, 'r')
  await provider.get(A, 'r')
  source.next.push(foreign)
  await clock.advance(45 * MIN)
  t.equal(source.calls.length, 2, 'renewed in the background')
  t.match(mismatches, [{ tokenTenant: B, background: true }])
  source.next.push(foreign)
  t.match(await failure(provider.get(A, 'r')), { kind: 'wrong-token' }, 'the old token was purged: nothing is served until a checked one comes')
  t.equal((await provider.get(A, 'r')).tid, A)
})

t.test('regression: refresh() (the 401 replay, the admin refresh) is checked', async (t) => {
  const { source, provider } = setup()
  await provider.get(A, 'r')
  source.next.push(foreign)
  t.match(await failure(provider.refresh(A, 'r')), { kind: 'wrong-token' })
  t.equal(source.calls.length, 2)
  await provider.get(A, 'r')
  t.equal(source.calls.length, 3, 'the tenant\'s previous token was purged with it')
})

t.test('regression: a poisoned token in the shared store is refused and deleted, not served, not cached', async (t) => {
  const shared = store()
  const { source, provider, mismatches } = setup({ shared })
  for (const poison of [await foreign(), await otherResource()]) {
    shared.tokens.set(A, poison)
    t.match(await failure(provider.get(A, 'r')), { kind: 'wrong-token', message: /shared token store/ })
    t.notOk(shared.tokens.has(A), 'deleted from the store')
    t.same(source.calls, [], 'refused before Entra ID was asked')
  }
  t.match(mismatches, [{ origin: 'shared', reason: 'tenant' }, { origin: 'shared', reason: 'audience' }])
  t.equal((await provider.get(A, 'r')).tid, A, 'then a fresh token from Entra ID')
  t.equal(shared.tokens.get(A)?.accessToken, (await provider.get(A, 'r')).accessToken, 'which is published')
  await settle()
})
