import t from 'tap'
import { buildFromObject } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'
import { createTokenProvider } from '../../src/tokens/token-provider.js'
import { failure, fakeClock, fakeSource, RESOURCE } from './token-fakes.js'

const TENANT = '11111111-1111-4111-8111-111111111111'

t.test('status reads the cache with no I/O: token, last error, remembered refusal; forgetRefusal lets a consent through', async (t) => {
  const clock = fakeClock()
  const source = fakeSource(clock)
  const provider = createTokenProvider({ source, resource: RESOURCE, skewMs: 300_000, maxTenants: 10, negativeTtlMs: 30_000, refresh: false, now: () => clock.now, schedule: clock.schedule, random: () => 0.5 })
  t.same(provider.status(TENANT), { token: undefined, lastError: undefined, refusedUntil: undefined })
  source.next.push(async () => { throw Object.assign(new Error('AADSTS700016: app not found'), { errorCode: 'unauthorized_client', errorNo: '700016' }) })
  await failure(provider.get(TENANT, 'r'))
  const refused = provider.status(TENANT)
  t.match(refused, { token: undefined, lastError: { kind: 'not-onboarded', at: clock.now }, refusedUntil: clock.now + 30_000 })
  t.match(await failure(provider.get(TENANT, 'r')), { kind: 'not-onboarded' }, 'refused from memory')
  t.equal(source.calls.length, 1)
  provider.forgetRefusal(TENANT)
  const token = await provider.get(TENANT, 'r')
  t.equal(source.calls.length, 2, 'asked Entra ID again after the consent')
  const ok = provider.status(TENANT)
  t.same(ok, { token: { expiresOn: token.expiresOn, roles: token.roles, stale: false }, lastError: undefined, refusedUntil: undefined })
  t.notOk(JSON.stringify(ok).includes('eyJ'), 'never the token itself')
  clock.advance(3600_000)
  t.equal(provider.status(TENANT).token, undefined, 'an expired token is not reported')
  provider.close()
})

t.test('onboarding config: key by reference and long enough, unknown keys refused, off when absent', async (t) => {
  const base = { identity: { clientId: '0a0b0c0d-1111-4222-8333-444455556666', secret: { fromEnv: 'S' } } }
  const load = (onboarding: unknown, env: Record<string, string> = {}) => buildFromObject({ ...base, onboarding }, { source: 't', baseDir: '/', env: { S: 's', ...env } })
  t.equal(buildFromObject(base, { source: 't', baseDir: '/', env: { S: 's' } }).config.onboarding, undefined)
  const on = load({ signingKey: { fromEnv: 'K' } }, { K: 'k'.repeat(32) })
  t.match(on.config.onboarding, { linkLifetimeDays: 30, stateLifetimeMinutes: 30 })
  t.equal(on.secrets.onboardingKey?.reveal(), 'k'.repeat(32))
  t.notOk(JSON.stringify(on).includes('k'.repeat(32)), 'the key is redacted')
  const problems = (fn: () => unknown): string[] => { try { fn(); return [] } catch (err) { return (err as ConfigError).problems as string[] } }
  t.match(problems(() => load({ signingKey: { fromEnv: 'K' } }, { K: 'short' })), [/onboarding.signingKey: must be at least 32 characters/])
  t.match(problems(() => load({ signingKey: 'inline-secret-value-inline-secret-value' })), [/onboarding.signingKey: must be \{fromEnv/])
  t.match(problems(() => load({ signingKey: { fromEnv: 'K' }, linkLifetimeDays: 0, redirectUri: 'ftp://x', extra: 1 }, { K: 'k'.repeat(32) })).join('\n'), /linkLifetimeDays[\s\S]*redirectUri|redirectUri[\s\S]*linkLifetimeDays/)
  t.match(problems(() => load({ signingKey: { fromEnv: 'K' }, extra: 1 }, { K: 'k'.repeat(32) })).join('\n'), /extra/)
})
