import { TokenError, type TokenFailure } from './types.js'

// AADSTS codes (reference/msal-node.md, Entra error docs) grouped by what the operator must do.
const NOT_ONBOARDED = new Set([700016, 65001, 90002, 90072, 500011, 7000229, 50020, 50128, 50194])
const BAD_CREDENTIAL = new Set([7000215, 7000222, 700027, 700023, 700024, 50012, 7000112, 7000274, 500212])

interface MsalLikeError {
  errorCode?: unknown
  errorNo?: unknown
  errorMessage?: unknown
  subError?: unknown
  message?: unknown
  status?: unknown
}

/** AADSTS number from msal's `errorNo`, else from the message text. */
export function aadstsOf (err: MsalLikeError): number | undefined {
  const fromNo = Number(err.errorNo)
  if (Number.isInteger(fromNo) && fromNo > 0) return fromNo
  const text = `${String(err.errorMessage ?? '')} ${String(err.message ?? '')}`
  const m = /AADSTS(\d+)/.exec(text)
  return m === null ? undefined : Number(m[1])
}

/** What the token request itself saw, which msal's error hides: the host, its HTTP status, a socket error. */
export interface AttemptContext {
  readonly host: string
  readonly status?: number
  /** the network or TLS error text (ECONNREFUSED, a timeout, an untrusted certificate) */
  readonly failure?: string
}

/**
 * Turns whatever msal threw into a TokenError whose message helps an operator and never carries a
 * secret: msal messages quote Entra's error description, which names codes, not credentials; the
 * attempt's host, status and socket error say which host failed and why.
 */
export function classify (err: unknown, tenantId: string, attempt?: AttemptContext): TokenError {
  if (err instanceof TokenError) return err
  const e = (typeof err === 'object' && err !== null ? err : {}) as MsalLikeError
  const code = aadstsOf(e)
  let kind: TokenFailure = 'transient'
  if (code !== undefined && NOT_ONBOARDED.has(code)) kind = 'not-onboarded'
  else if (e.subError === 'consent_required') kind = 'not-onboarded'
  else if ((code !== undefined && BAD_CREDENTIAL.has(code)) || e.errorCode === 'invalid_client') kind = 'bad-credential'
  const detail = code !== undefined ? `AADSTS${code}` : String(e.errorCode ?? e.message ?? 'unknown error')
  const what: Record<TokenFailure, string> = {
    'not-onboarded': `the gateway's app is not consented in tenant ${tenantId}`,
    'bad-credential': 'Entra ID rejected the gateway\'s app credential (expired or wrong secret or certificate)',
    transient: `Entra ID could not issue a token for tenant ${tenantId} right now`,
    'invalid-response': `Entra ID gave an unusable answer for tenant ${tenantId}`,
    'wrong-token': `Entra ID handed over a token of another tenant or resource for tenant ${tenantId}`
  }
  return new TokenError(kind, `${what[kind]} (${whyOf(detail, attempt).slice(0, 200)})`, code)
}

function whyOf (detail: string, attempt: AttemptContext | undefined): string {
  if (attempt === undefined) return detail.slice(0, 120)
  if (attempt.failure !== undefined) return `${attempt.host}: ${attempt.failure.slice(0, 150)}`
  return `${attempt.host}${attempt.status === undefined ? '' : ` answered HTTP ${attempt.status}`}: ${detail.slice(0, 120)}`
}
