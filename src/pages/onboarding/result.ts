import { consentByApi, type ApiTokens } from '../../graph/consent.js'
import type { PolicyHolder } from '../../pipeline/policy-state.js'
import { tenantApiKeys } from '../permissions.js'
import type { ConsentOutcome } from './callback.js'

/** One API on the result page: granted and missing per its own token, and whether that token was had. */
export interface ResultApi { api: string, granted: string[], missing: string[], connected: boolean, problem: string | undefined }

interface ResultDeps { policy: PolicyHolder, tokens: ApiTokens, requestId: string }

const LATER = 'Your provider sees this on its status page and will check again; you need not do anything unless they ask.'

/** What the callback page shows and with which status. */
export interface ResultPage {
  readonly status: number
  readonly view: { ok: boolean, heading: string, message: string, next?: string, apis?: ResultApi[] }
}

const BAD_STATE: Readonly<Record<string, string>> = {
  missing: 'The answer from Microsoft carries no state, so it cannot be matched to an onboarding link.',
  malformed: 'The state in the answer is not one this gateway made.',
  'bad-signature': 'The state in the answer was changed or made elsewhere.',
  expired: 'The sign-in took longer than allowed and its state has expired.',
  'unknown-tenant': 'The tenant of this link is no longer configured at your provider.',
  replayed: 'This answer was already used once.'
}

/**
 * Turns a callback outcome into a page. On consent the tenant's remembered refusals are forgotten and a
 * token of every API the tenant uses is acquired at once (through each API's token provider, which checks
 * its tenant and resource), and the page compares each token's roles with that API's configured permissions.
 */
export async function consentResultPage (outcome: ConsentOutcome, deps: ResultDeps): Promise<ResultPage> {
  const again = 'Open your onboarding link again to start over.'
  switch (outcome.kind) {
    case 'bad-query':
      return { status: 400, view: { ok: false, heading: 'This answer cannot be used', message: 'The answer is not one Microsoft sends: a parameter appears more than once or is not text.', next: again } }
    case 'bad-state':
      return { status: 400, view: { ok: false, heading: 'This answer cannot be used', message: BAD_STATE[outcome.reason] ?? '', next: again } }
    case 'declined':
      return { status: 200, view: { ok: false, heading: 'Consent was not given', message: `Microsoft reports that the permissions were declined (${outcome.error}${outcome.aadsts === undefined ? '' : `, AADSTS${outcome.aadsts}`}). Nothing was granted.`, next: again } }
    case 'failed':
      return { status: 502, view: { ok: false, heading: 'Microsoft could not complete the consent', message: `Microsoft answered with the error ${outcome.error}${outcome.aadsts === undefined ? '' : ` (AADSTS${outcome.aadsts})`}.`, next: `${again} If it happens again, tell your security provider this code.` } }
    case 'wrong-tenant':
      return { status: 400, view: { ok: false, heading: 'Consent was given in another organization', message: `The link is for tenant ${outcome.tenantId}, but the consent was recorded in ${outcome.landedIn}. Nothing was connected.`, next: 'Sign in with an administrator account of the organization the link was made for, then open the link again.' } }
    case 'no-answer':
      return { status: 400, view: { ok: false, heading: 'Microsoft sent no answer', message: 'The answer carries neither a consent nor an error.', next: again } }
    case 'consented':
      return await afterConsent(outcome.tenantId, deps)
  }
}

async function afterConsent (tenantId: string, deps: ResultDeps): Promise<ResultPage> {
  const permissions = deps.policy.current.tenants.get(tenantId)?.permissions ?? []
  const apis = tenantApiKeys(permissions)
  for (const api of apis) {
    // Only when a re-acquisition may ask Entra ID now: forged answers cannot empty the refusal memory faster.
    if (deps.tokens[api].reacquireWaitMs(tenantId) === 0) deps.tokens[api].forgetRefusal(tenantId)
  }
  // A new token of each API at once; each provider checks its token's tenant and audience where it is acquired.
  const consent = await consentByApi(deps.tokens, tenantId, permissions, deps.requestId, { apis, fresh: true })
  const rows = consent.map((c) => ({ api: c.title, granted: [...c.granted], missing: [...c.missing], connected: c.token.ok, problem: c.token.ok ? undefined : c.token.errorClass }))
  const connected = rows.filter((r) => r.connected).length
  if (connected === 0) {
    return { status: 502, view: { ok: false, heading: 'Consent recorded, but no access yet', message: `Microsoft recorded the consent, but the gateway could not get access yet (${rows.map((r) => r.problem).join(', ')}). Microsoft can take a few minutes to apply a new consent.`, next: LATER, apis: rows } }
  }
  const complete = connected === rows.length && rows.every((r) => r.missing.length === 0)
  return {
    status: 200,
    view: {
      ok: complete,
      heading: complete ? 'Connected' : (connected === rows.length ? 'Connected, with permissions missing' : 'Connected to some APIs only'),
      message: complete
        ? 'Every permission your provider asked for is granted. You can close this page.'
        : (connected === rows.length ? 'Some permissions your provider asked for are not granted; an administrator can grant them by opening the link again.' : 'The gateway could not get access to every API yet (see below). Microsoft can take a few minutes to apply a new consent.'),
      ...(connected === rows.length ? {} : { next: LATER }),
      apis: rows
    }
  }
}
