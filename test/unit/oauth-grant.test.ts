import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { buildFromObject } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'
import { keyHash, type ClientEntry } from '../../src/callers/authenticate.js'
import { acceptedResources } from '../../src/gateway-tokens/resources.js'
import { parseTokenRequest } from '../../src/token-endpoint/form.js'
import { grantedRoles, indexByClientId, requestedResource, secretMatches, tenantFor } from '../../src/token-endpoint/grant.js'
import { createGuessLimiter } from '../../src/token-endpoint/guess-limit.js'
import { sourceAddress } from '../../src/token-endpoint/routes.js'
import { OAuthError } from '../../src/token-endpoint/oauth-errors.js'
import { fakeClock } from '../fake-clock.js'

const A = 'aaaaaaaa-1111-4111-8111-111111111111'
const B = 'bbbbbbbb-2222-4222-8222-222222222222'
const reason = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return err instanceof OAuthError ? err.reason : `other: ${String(err)}` }
  return undefined
}

t.test('parseTokenRequest: form fields, Basic, duplicates', async (t) => {
  const r = parseTokenRequest('grant_type=client_credentials&client_id=abc&client_secret=s%2Bx+y&scope=https://api.securitycenter.microsoft.com/.default', undefined)
  t.same(r, { grantType: 'client_credentials', clientId: 'abc', clientSecret: 's+x y', scope: 'https://api.securitycenter.microsoft.com/.default', resource: undefined })
  const basic = Buffer.from(`${encodeURIComponent('id:1')}:${encodeURIComponent('p@ss:w+rd')}`).toString('base64')
  const b = parseTokenRequest('grant_type=client_credentials&resource=x', `Basic ${basic}`)
  t.equal(b.clientId, 'id:1', 'both halves are form-decoded (RFC 6749 §2.3.1)')
  t.equal(b.clientSecret, 'p@ss:w+rd')
  t.equal(reason(() => parseTokenRequest('grant_type=a&grant_type=b&client_id=x', undefined)), 'invalid_request')
  t.equal(reason(() => parseTokenRequest('client_id=x', undefined)), 'invalid_request')
  t.equal(reason(() => parseTokenRequest('grant_type=client_credentials', undefined)), 'invalid_request')
  t.equal(reason(() => parseTokenRequest('grant_type=client_credentials&client_secret=s', `Basic ${basic}`)), 'invalid_request', 'credentials twice')
  t.equal(reason(() => parseTokenRequest('grant_type=client_credentials', 'Basic bm9jb2xvbg==')), 'invalid_request', 'Basic without a colon')
  t.equal(reason(() => parseTokenRequest('grant_type=client_credentials', `Basic ${Buffer.from('%zz:x').toString('base64')}`)), 'invalid_request', 'bad encoding')
  t.equal(parseTokenRequest('grant_type=client_credentials&client_id=abc&client_secret=', undefined).clientSecret, undefined, 'empty secret = none')
})

t.test('requestedResource: the configured cloud\'s Defender and Graph identifiers only', async (t) => {
  const pub = acceptedResources('public')
  const v2 = (scope: string): string => requestedResource('v2', { grantType: 'client_credentials', clientId: 'x', scope }, pub)
  const v1 = (resource?: string): string => requestedResource('v1', { grantType: 'client_credentials', clientId: 'x', resource }, pub)
  t.equal(v2('https://api.securitycenter.microsoft.com/.default'), 'https://api.securitycenter.microsoft.com')
  t.equal(v2('HTTPS://API.securitycenter.windows.com/.default'), 'HTTPS://API.securitycenter.windows.com', 'case-insensitive, echoed as asked')
  t.equal(v2('openid profile fc780465-2017-40d4-a0c5-307022471b92/.default offline_access'), 'fc780465-2017-40d4-a0c5-307022471b92')
  t.equal(v1('https://api.securitycenter.windows.com/'), 'https://api.securitycenter.windows.com/')
  t.equal(v1('https://securitycenter.onmicrosoft.com/windowsatpservice'), 'https://securitycenter.onmicrosoft.com/windowsatpservice')
  t.equal(v2('https://graph.microsoft.com/.default'), 'https://graph.microsoft.com', 'Microsoft Graph (issue 15)')
  t.equal(v2('00000003-0000-0000-c000-000000000000/.default'), '00000003-0000-0000-c000-000000000000', 'Graph by app id')
  for (const bad of ['https://graph.microsoft.us/.default', 'https://graph.microsoft.com.evil.example/.default', 'https://api.securitycenter.microsoft.com', 'https://api.securitycenter.microsoft.com.evil.example/.default',
    'https://api.securitycenter.microsoft.com/.default https://graph.microsoft.com/.default', 'https://api-gov.securitycenter.microsoft.us/.default']) {
    t.equal(reason(() => v2(bad)), 'scope', bad)
  }
  t.equal(reason(() => v2('openid')), 'invalid_request', 'no resource scope at all')
  t.equal(reason(() => v1('https://api.securitycenter.microsoft.com/.default')), 'scope')
  t.equal(reason(() => v1('https://management.azure.com/')), 'scope')
  t.equal(reason(() => v1(undefined)), 'invalid_request')
  const gov = acceptedResources('gcc-high')
  t.equal(requestedResource('v1', { grantType: 'client_credentials', clientId: 'x', resource: 'https://api-gov.securitycenter.microsoft.us' }, gov), 'https://api-gov.securitycenter.microsoft.us')
  t.equal(reason(() => requestedResource('v1', { grantType: 'client_credentials', clientId: 'x', resource: 'https://api.securitycenter.microsoft.com' }, gov)), 'scope', 'a public-cloud resource is not a gov one')
  t.equal(requestedResource('v1', { grantType: 'client_credentials', clientId: 'x', resource: 'https://graph.microsoft.us' }, gov), 'https://graph.microsoft.us', 'GCC High Graph')
  t.equal(reason(() => requestedResource('v1', { grantType: 'client_credentials', clientId: 'x', resource: 'https://graph.microsoft.com' }, gov)), 'scope', 'the public Graph is not a gov one')
})

t.test('clients, tenants and roles', async (t) => {
  const siem: ClientEntry = { name: 'siem', clientId: 'C1E2AAAA-0000-4000-8000-000000000001', keySha256: keyHash('k1'), tenants: [A], permissions: ['Alert.Read.All', 'Machine.Isolate'] }
  const all: ClientEntry = { name: 'ops', keySha256: keyHash('k2'), tenants: ['*'], permissions: ['Alert.Read.All'] }
  const index = indexByClientId([siem, all])
  t.equal(index.get('c1e2aaaa-0000-4000-8000-000000000001'), siem)
  t.equal(index.get('siem'), siem)
  t.equal(index.get('ops'), all)
  t.ok(secretMatches('k1', siem.keySha256))
  t.notOk(secretMatches('k2', siem.keySha256))
  const tenants = new Map([[A, { id: A, permissions: new Set(['Alert.Read.All', 'Machine.Read.All']) }], ['contoso', { id: A, permissions: new Set(['Alert.Read.All', 'Machine.Read.All']) }], [B, { id: B, permissions: new Set(['Alert.Read.All']) }]])
  t.equal(tenantFor('CONTOSO', tenants, siem).id, A)
  t.equal(reason(() => tenantFor(B, tenants, siem)), 'tenant', 'configured but not allowed for the client')
  t.equal(reason(() => tenantFor('nope', tenants, all)), 'tenant', 'not configured')
  t.equal(tenantFor(B, tenants, all).id, B)
  t.same(grantedRoles(siem, tenants.get(A)!), ['Alert.Read.All'], 'client ∩ tenant')
})

t.test('guess limiter: blocks after maxFailures until the window ends, per key', async (t) => {
  const clock = fakeClock()
  const limiter = createGuessLimiter({ maxFailures: 3, windowMs: 60_000, now: clock.now })
  for (let i = 0; i < 3; i++) {
    t.equal(limiter.blockedFor('c:a'), undefined)
    limiter.fail('c:a')
  }
  t.equal(limiter.blockedFor('c:a'), 60)
  t.equal(limiter.blockedFor('c:b'), undefined, 'other keys unaffected')
  clock.advance(59_500)
  t.equal(limiter.blockedFor('c:a'), 1)
  clock.advance(500)
  t.equal(limiter.blockedFor('c:a'), undefined, 'a new window starts fresh')
  const small = createGuessLimiter({ maxFailures: 1, windowMs: 1000, now: clock.now, maxKeys: 2 })
  for (const k of ['x', 'y', 'z']) small.fail(k)
  t.equal(small.blockedFor('x'), undefined, 'memory is bounded: the oldest key is forgotten')
  t.equal(small.blockedFor('z'), 1)
})

t.test('guess limiter: fail() returns the failures of the window (the per-client alarm fires once)', async (t) => {
  const clock = fakeClock()
  const limiter = createGuessLimiter({ maxFailures: 2, windowMs: 1000, now: clock.now })
  t.same([limiter.fail('c:a'), limiter.fail('c:a'), limiter.fail('c:a')], [1, 2, 3])
  clock.advance(1000)
  t.equal(limiter.fail('c:a'), 1, 'a new window counts from 1')
})

t.test('source address for the guessing limit: the socket, or the right-most X-Forwarded-For with trustProxy', async (t) => {
  const req = (xff?: string | string[]): FastifyRequest => ({ socket: { remoteAddress: '10.0.0.1' }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, ip: 'ignored' }) as unknown as FastifyRequest
  t.equal(sourceAddress(req('1.1.1.1, 2.2.2.2'), false), '10.0.0.1', 'without trustProxy the header means nothing')
  t.equal(sourceAddress(req('1.1.1.1, 2.2.2.2'), true), '2.2.2.2', 'the entry the trusted proxy appended')
  t.equal(sourceAddress(req(['1.1.1.1', '3.3.3.3 ,']), true), '3.3.3.3', 'several headers, empty entries skipped')
  t.equal(sourceAddress(req(' , '), true), '10.0.0.1', 'no usable entry: the socket')
  t.equal(sourceAddress(req(), true), '10.0.0.1')
})

t.test('config: oauth section and clientIds are validated', async (t) => {
  const base = (extra: Record<string, unknown>, clients: Array<Record<string, unknown>>): Record<string, unknown> => ({
    identity: { clientId: A, secret: { fromEnv: 'S' } },
    tenants: [{ id: A, name: 'contoso', permissions: ['Alert.Read.All'] }],
    clients,
    ...extra
  })
  const load = (raw: Record<string, unknown>, env: Record<string, string> = {}): string[] => {
    try { buildFromObject(raw, { source: 't', baseDir: '.', env: { S: 'x', ...env } }); return [] } catch (err) { return err instanceof ConfigError ? [...err.problems] : [String(err)] }
  }
  const c = (name: string, clientId?: string): Record<string, unknown> => ({ name, keySha256: keyHash(name), tenants: ['*'], ...(clientId === undefined ? {} : { clientId }) })
  t.same(load(base({ oauth: { signingKey: { fromEnv: 'K' } } }, [c('a', A)]), { K: 'k'.repeat(32) }), [])
  t.match(load(base({ oauth: { signingKey: { fromEnv: 'K' } } }, [c('a')]), { K: 'short' }), [/oauth.signingKey: must be at least 32 characters/])
  t.match(load(base({ oauth: { signingKey: { fromEnv: 'K' }, previousKeys: [{ fromEnv: 'OLD' }] } }, [c('a')]), { K: 'k'.repeat(32) }), [/oauth.previousKeys\[0\]: environment variable OLD is not set/])
  t.match(load(base({ oauth: { signingKey: 'inline' } }, [c('a')])), [/oauth.signingKey/])
  t.match(load(base({ oauth: { signingKey: { fromEnv: 'K' }, tokenLifetimeSeconds: 10 } }, [c('a')]), { K: 'k'.repeat(32) }), [/oauth.tokenLifetimeSeconds/])
  t.match(load(base({ oauth: { signingKey: { fromEnv: 'K' }, extra: 1 } }, [c('a')]), { K: 'k'.repeat(32) }), [/oauth/])
  t.match(load(base({}, [c('a', A), c('b', A.toUpperCase())])), [/clients\[1\].clientId: .* is used by another client/])
  t.match(load(base({}, [c('a', 'not-a-guid')])), [/clients\[0\].clientId: must be a GUID/])
})
