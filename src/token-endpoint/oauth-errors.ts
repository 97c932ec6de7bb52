import { randomUUID } from 'node:crypto'

/** Why the token endpoint refused: a bounded set, used as a metric label and mapped to Entra's answer. */
export type RefusalReason =
  | 'invalid_request' | 'unsupported_grant_type' | 'unknown_client' | 'missing_secret' | 'wrong_secret'
  | 'tenant' | 'scope' | 'too_many_failures' | 'busy' | 'timeout' | 'server_error'

/** Entra's `error`, AADSTS code and HTTP status for each refusal (entra-token-endpoint.md §3.2). */
const ENTRA: Readonly<Record<RefusalReason, { error: string, code: number, status: number }>> = {
  invalid_request: { error: 'invalid_request', code: 900144, status: 400 },
  unsupported_grant_type: { error: 'unsupported_grant_type', code: 70003, status: 400 },
  unknown_client: { error: 'unauthorized_client', code: 700016, status: 400 },
  missing_secret: { error: 'invalid_client', code: 7000218, status: 401 },
  wrong_secret: { error: 'invalid_client', code: 7000215, status: 401 },
  tenant: { error: 'invalid_request', code: 90002, status: 400 },
  scope: { error: 'invalid_scope', code: 70011, status: 400 },
  too_many_failures: { error: 'temporarily_unavailable', code: 50053, status: 429 },
  // Entra names no AADSTS code for throttling (reference §3.2): the service-unavailable one.
  busy: { error: 'temporarily_unavailable', code: 90033, status: 429 },
  timeout: { error: 'invalid_request', code: 900144, status: 408 },
  server_error: { error: 'server_error', code: 50000, status: 500 }
}

/** A refusal of the token endpoint; rendered only by renderOAuthError, in Entra's OAuth2 shape. */
export class OAuthError extends Error {
  readonly reason: RefusalReason
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  constructor (reason: RefusalReason, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'OAuthError'
    this.reason = reason
    this.status = ENTRA[reason].status
    this.headers = headers
  }
}

/** Maps anything thrown on the token endpoint to an OAuthError (framework 4xx: bad body, wrong type). */
export function toOAuthError (err: unknown): OAuthError {
  if (err instanceof OAuthError) return err
  const status = (err as { statusCode?: number }).statusCode ?? 500
  if (status >= 400 && status < 500) return new OAuthError('invalid_request', "The request body must contain the parameter 'grant_type', in a form (application/x-www-form-urlencoded) of at most 16 KB.")
  return new OAuthError('server_error', 'The gateway failed to handle the token request; see its logs with the trace id.')
}

/** Entra's error body: `error`, `error_description` (with the AADSTS code), ids and a timestamp. */
export function renderOAuthError (err: OAuthError, traceId: string, now: Date): string {
  const { error, code } = ENTRA[err.reason]
  const timestamp = now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  const correlationId = randomUUID()
  return JSON.stringify({
    error,
    error_description: `AADSTS${code}: ${err.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId
  })
}
