import t from 'tap'
import { readConsentCallback, type CallbackContext } from '../../src/pages/onboarding/callback.js'
import { createOnboardingSigner } from '../../src/pages/onboarding/signing.js'

const KEY = 'k'.repeat(40)
const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'
const NOW = 1_800_000_000_000

t.test('links: signed per tenant and expiry; another tenant, key, expiry or a past expiry fails', async (t) => {
  const signer = createOnboardingSigner(KEY)
  const { exp, sig } = signer.link(A, NOW + 86_400_000)
  t.ok(signer.linkValid(A, exp, sig, NOW))
  t.ok(signer.linkValid(A.toUpperCase(), exp, sig, NOW), 'tenant ids compare case-insensitively')
  t.notOk(signer.linkValid(B, exp, sig, NOW), 'not for another tenant')
  t.notOk(createOnboardingSigner('x'.repeat(40)).linkValid(A, exp, sig, NOW), 'not under another key')
  t.notOk(signer.linkValid(A, String(Number(exp) + 1), sig, NOW), 'the expiry is signed')
  t.notOk(signer.linkValid(A, exp, sig, NOW + 86_400_000), 'expired')
  for (const bad of ['', 'abc', '1e9', '-1', '9'.repeat(13)]) t.notOk(signer.linkValid(A, bad, sig, NOW), `exp '${bad}'`)
  for (const bad of ['', 'x', `${sig}A`, sig.slice(1)]) t.notOk(signer.linkValid(A, exp, bad, NOW), `sig '${bad}'`)
})

t.test('a link signature is not a state signature (one derived key each)', async (t) => {
  const signer = createOnboardingSigner(KEY)
  const { exp, sig } = signer.link(A, NOW)
  t.equal(signer.readState(`${Buffer.from(`${A}|${exp}`).toString('base64url')}.${sig}`), 'bad-signature')
})

function context (overrides: Partial<CallbackContext> = {}): CallbackContext & { nonces: string[] } {
  const nonces: string[] = []
  return {
    signer: createOnboardingSigner(KEY),
    now: NOW,
    isConfigured: (id) => id === A || id === B,
    firstUse: (nonce) => { if (nonces.includes(nonce)) return false; nonces.push(nonce); return true },
    nonces,
    ...overrides
  }
}

t.test('callback answers, table-driven', async (t) => {
  const ctx = context()
  const state = (tenant = A, expiresAt = NOW + 60_000): string => ctx.signer.state(tenant, expiresAt)
  const cases: Array<[string, Record<string, string | undefined>, object]> = [
    ['consent in the link\'s tenant', { admin_consent: 'True', tenant: A, state: state() }, { kind: 'consented', tenantId: A }],
    ['tenant id in upper case', { admin_consent: 'True', tenant: A.toUpperCase(), state: state() }, { kind: 'consented' }],
    ['declined', { error: 'access_denied', error_description: 'AADSTS65004: User declined to consent', state: state() }, { kind: 'declined', error: 'access_denied', aadsts: '65004' }],
    ['v2.0: admin_consent=True with an error: the error wins', { admin_consent: 'True', error: 'consent_required', state: state() }, { kind: 'declined', error: 'consent_required', aadsts: undefined }],
    ['another error', { error: 'server_error', error_description: 'AADSTS90033 busy', state: state() }, { kind: 'failed', error: 'server_error', aadsts: '90033' }],
    ['an error that is not a code', { error: '<b>call us</b>', state: state() }, { kind: 'failed', error: 'unknown' }],
    ['consent landed in another tenant', { admin_consent: 'True', tenant: B, state: state() }, { kind: 'wrong-tenant', tenantId: A, landedIn: B }],
    ['consent with no tenant', { admin_consent: 'True', state: state() }, { kind: 'wrong-tenant', landedIn: 'another tenant' }],
    ['neither consent nor error', { state: state() }, { kind: 'no-answer' }],
    ['admin_consent=False', { admin_consent: 'False', tenant: A, state: state() }, { kind: 'no-answer' }],
    ['no state', { admin_consent: 'True', tenant: A }, { kind: 'bad-state', reason: 'missing' }],
    ['empty state', { admin_consent: 'True', tenant: A, state: '' }, { kind: 'bad-state', reason: 'missing' }],
    ['not our format', { admin_consent: 'True', tenant: A, state: 'abc' }, { kind: 'bad-state', reason: 'malformed' }],
    ['tampered', { admin_consent: 'True', tenant: A, state: `${state().slice(0, -3)}AAA` }, { kind: 'bad-state', reason: 'bad-signature' }],
    ['signed under another key', { admin_consent: 'True', tenant: A, state: createOnboardingSigner('z'.repeat(40)).state(A, NOW + 60_000) }, { kind: 'bad-state', reason: 'bad-signature' }],
    ['expired', { admin_consent: 'True', tenant: A, state: state(A, NOW) }, { kind: 'bad-state', reason: 'expired' }],
    ['tenant removed from the config since', { admin_consent: 'True', tenant: '33333333-3333-4333-8333-333333333333', state: state('33333333-3333-4333-8333-333333333333') }, { kind: 'bad-state', reason: 'unknown-tenant' }]
  ]
  for (const [name, query, expected] of cases) t.match(readConsentCallback(query, ctx), expected, name)
})

t.test('a state is single use, whatever the first answer was', async (t) => {
  const ctx = context()
  const state = ctx.signer.state(A, NOW + 60_000)
  t.match(readConsentCallback({ error: 'access_denied', state }, ctx), { kind: 'declined' })
  t.match(readConsentCallback({ admin_consent: 'True', tenant: A, state }, ctx), { kind: 'bad-state', reason: 'replayed' })
  t.equal(ctx.nonces.length, 1)
  const other = ctx.signer.state(A, NOW + 60_000)
  t.match(readConsentCallback({ admin_consent: 'True', tenant: A, state: other }, ctx), { kind: 'consented' }, 'a fresh state works')
})

t.test('a parameter sent twice is refused before the state is used up', async (t) => {
  const ctx = context()
  const state = ctx.signer.state(A, NOW + 60_000)
  for (const query of [{ state: [state, state] }, { state, admin_consent: ['True', 'True'], tenant: A }, { state, admin_consent: 'True', tenant: [A, B] }, { state, error: ['access_denied', 'x'] }, { state, error_description: {} }]) {
    t.same(readConsentCallback(query, ctx), { kind: 'bad-query' }, JSON.stringify(Object.keys(query)))
  }
  t.equal(ctx.nonces.length, 0, 'no nonce consumed')
  t.match(readConsentCallback({ admin_consent: 'True', tenant: A, state }, ctx), { kind: 'consented' }, 'the well-formed answer still works')
})
