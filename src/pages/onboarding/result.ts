import type { PolicyHolder } from '../../pipeline/policy-state.js'
import { TokenError, type TenantToken, type TokenProvider } from '../../tokens/types.js'
import { grantedVsConfigured, tenantApis } from '../permissions.js'
import type { ConsentOutcome } from './callback.js'

/** What the callback page shows and with which status. */
export interface ResultPage {
  readonly status: number
  readonly view: { ok: boolean, heading: string, message: string, next?: string, apis?: Array<{ api: string, granted: string[], missing: string[] }> }
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
 * Turns a callback outcome into a page. On consent the tenant's remembered refusal is forgotten and a
 * token is acquired at once (through the gateway's token provider, which checks its tenant and
 * resource), and the page compares its roles with the permissions configured for the tenant.
 */
export async function consentResultPage (outcome: ConsentOutcome, deps: { policy: PolicyHolder, tokens: TokenProvider, requestId: string }): Promise<ResultPage> {
  const again = 'Open your onboarding link again to start over.'
  switch (outcome.kind) {
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

async function afterConsent (tenantId: string, deps: { policy: PolicyHolder, tokens: TokenProvider, requestId: string }): Promise<ResultPage> {
  const tenant = deps.policy.current.tenants.get(tenantId)
  const apis = tenantApis(tenant?.permissions ?? [])
  // Only when a re-acquisition may ask Entra ID now: forged answers cannot empty the refusal memory faster.
  if (deps.tokens.reacquireWaitMs(tenantId) === 0) deps.tokens.forgetRefusal(tenantId)
  const result = await deps.tokens.refresh(tenantId, deps.requestId).then((token) => token, (err: unknown) => err)
  if (!isToken(result)) {
    const kind = result instanceof TokenError ? result.kind : 'error'
    return { status: 502, view: { ok: false, heading: 'Consent recorded, but no access yet', message: `Microsoft recorded the consent, but the gateway could not get access yet (${kind}). Microsoft can take a few minutes to apply a new consent.`, next: 'Your provider sees this on its status page and will check again; you need not do anything unless they ask.', apis: grantedVsConfigured(apis, undefined) } }
  }
  const compared = grantedVsConfigured(apis, result.roles)
  const complete = compared.every((a) => a.missing.length === 0)
  return {
    status: 200,
    view: {
      ok: complete,
      heading: complete ? 'Connected' : 'Connected, with permissions missing',
      message: complete ? 'Every permission your provider asked for is granted. You can close this page.' : 'Some permissions your provider asked for are not granted; an administrator can grant them by opening the link again.',
      apis: compared
    }
  }
}

function isToken (value: unknown): value is TenantToken {
  return typeof value === 'object' && value !== null && 'roles' in value
}
