import type { OnboardingSigner } from './signing.js'

/** What Entra ID's redirect back to `/onboarding/callback` means, decided before anything is acquired. */
export type ConsentOutcome =
  | { readonly kind: 'bad-query' }
  | { readonly kind: 'bad-state', readonly reason: 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'unknown-tenant' | 'replayed' }
  | { readonly kind: 'declined', readonly tenantId: string, readonly error: string, readonly aadsts: string | undefined }
  | { readonly kind: 'failed', readonly tenantId: string, readonly error: string, readonly aadsts: string | undefined }
  | { readonly kind: 'wrong-tenant', readonly tenantId: string, readonly landedIn: string }
  | { readonly kind: 'no-answer', readonly tenantId: string }
  | { readonly kind: 'consented', readonly tenantId: string }

export interface CallbackContext {
  readonly signer: OnboardingSigner
  readonly now: number
  /** the configured tenant with this id, if any (a reload may have removed it since the link was made) */
  isConfigured (tenantId: string): boolean
  /** true the first time a nonce is presented; later calls with it are replays */
  firstUse (nonce: string, expiresAt: number): boolean
}

// Entra's `error` values are short snake_case words; anything else is shown as "unknown".
const ERROR_CODE = /^[a-z_]{1,64}$/
const AADSTS = /AADSTS(\d{4,9})/
const DECLINED = new Set(['access_denied', 'consent_required'])
const FIELDS = ['state', 'error', 'error_description', 'admin_consent', 'tenant'] as const

/**
 * Checks the state (present, signed by us, not expired, a configured tenant, first use) and then reads
 * Entra's answer: an `error` wins over `admin_consent` (the v2.0 endpoint can send both), a consent that
 * landed in another tenant than the link's is refused. Only codes and AADSTS numbers are taken from the
 * query, never its free text, so a crafted link cannot put words on the gateway's page.
 */
export function readConsentCallback (given: Readonly<Record<string, unknown>>, context: CallbackContext): ConsentOutcome {
  // A parameter sent twice (an array) is not Entra's answer: refused before the state is used up.
  const query: Partial<Record<typeof FIELDS[number], string>> = {}
  for (const field of FIELDS) {
    const value = given[field]
    if (value !== undefined && typeof value !== 'string') return { kind: 'bad-query' }
    if (value !== undefined) query[field] = value
  }
  const raw = query.state
  if (raw === undefined || raw === '') return { kind: 'bad-state', reason: 'missing' }
  const state = context.signer.readState(raw)
  if (typeof state === 'string') return { kind: 'bad-state', reason: state }
  if (state.expiresAt <= context.now) return { kind: 'bad-state', reason: 'expired' }
  if (!context.isConfigured(state.tenantId)) return { kind: 'bad-state', reason: 'unknown-tenant' }
  if (!context.firstUse(state.nonce, state.expiresAt)) return { kind: 'bad-state', reason: 'replayed' }
  const tenantId = state.tenantId
  if (query.error !== undefined) {
    const error = ERROR_CODE.test(query.error) ? query.error : 'unknown'
    const aadsts = AADSTS.exec(query.error_description ?? '')?.[1]
    return DECLINED.has(error) ? { kind: 'declined', tenantId, error, aadsts } : { kind: 'failed', tenantId, error, aadsts }
  }
  if (query.admin_consent?.toLowerCase() !== 'true') return { kind: 'no-answer', tenantId }
  const landedIn = (query.tenant ?? '').toLowerCase()
  if (landedIn !== tenantId) return { kind: 'wrong-tenant', tenantId, landedIn: /^[0-9a-f-]{36}$/.test(landedIn) ? landedIn : 'another tenant' }
  return { kind: 'consented', tenantId }
}
