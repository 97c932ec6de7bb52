import t from 'tap'
import { aadstsOf, classify } from '../../src/tokens/classify.js'

const TENANT = '11111111-1111-4111-8111-111111111111'

// One row per msal error shape (reference/msal-node.md "Errors"): what the operator must do differs.
const rows: Array<[string, unknown, string, number | undefined]> = [
  ['bad secret', { errorCode: 'invalid_client', errorNo: '7000215', status: 401 }, 'bad-credential', 7000215],
  ['expired secret', { errorCode: 'invalid_client', errorNo: '7000222' }, 'bad-credential', 7000222],
  ['bad certificate assertion', { errorCode: 'invalid_client', errorMessage: 'AADSTS700027: Client assertion failed' }, 'bad-credential', 700027],
  ['invalid_client without code', { errorCode: 'invalid_client' }, 'bad-credential', undefined],
  ['app not in tenant', { errorCode: 'unauthorized_client', errorNo: '700016' }, 'not-onboarded', 700016],
  ['consent required', { errorCode: 'invalid_grant', subError: 'consent_required', errorMessage: 'consent' }, 'not-onboarded', undefined],
  ['consent code', { errorMessage: 'AADSTS65001: The user or administrator has not consented' }, 'not-onboarded', 65001],
  ['tenant not found', { errorNo: 90002 }, 'not-onboarded', 90002],
  ['throttled', { errorCode: 'temporarily_unavailable', status: 429, errorNo: '90033' }, 'transient', 90033],
  ['server error', { errorCode: 'server_error', status: 503 }, 'transient', undefined],
  ['network', { errorCode: 'network_error', message: 'ECONNREFUSED' }, 'transient', undefined],
  ['non-object', 'weird', 'transient', undefined],
  ['null', null, 'transient', undefined]
]

for (const [name, err, kind, code] of rows) {
  t.test(name, async (t) => {
    const classified = classify(err, TENANT)
    t.equal(classified.kind, kind)
    t.equal(classified.aadsts, code)
    t.ok(classified.message.length > 10, 'has a message for operators')
  })
}

t.test('aadstsOf ignores non-numeric errorNo and falls back to the message', async (t) => {
  t.equal(aadstsOf({ errorNo: 'abc', message: 'AADSTS50012: bad' }), 50012)
  t.equal(aadstsOf({}), undefined)
})
