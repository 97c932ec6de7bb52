/** Every error the gateway itself answers with: one code, one status, one renderer (Defender's shape). */
export const ERROR_STATUS = {
  BadRequest: 400,
  GatewayUnauthenticated: 401,
  TenantNotAllowed: 403,
  PermissionNotAllowed: 403,
  UnknownRoute: 403,
  /** admin API: the tenant (or other named thing) asked about is not in the config */
  NotFound: 404,
  PermissionNotGranted: 403,
  TenantNotOnboarded: 403,
  MethodNotAllowed: 405,
  RequestTimeout: 408,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  RateLimited: 429,
  InternalError: 500,
  UpstreamUnavailable: 502,
  TokenUnavailable: 503,
  UpstreamTimeout: 504
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

/** A refusal or failure the gateway decided on; mapped to HTTP only by `renderError`. */
export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** extra response headers, e.g. Retry-After */
  readonly headers: Readonly<Record<string, string>>

  constructor (code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'GatewayError'
    this.code = code
    this.status = ERROR_STATUS[code]
    this.headers = headers
  }
}

/** Defender's error body, so clients parse one format for gateway and upstream errors alike. */
export function renderError (code: ErrorCode, message: string, requestId: string): string {
  return JSON.stringify({ error: { code, message, target: requestId } })
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's `client-request-id` when it is a plain token (Graph echoes it back), else undefined. */
export function clientRequestId (value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && CLIENT_REQUEST_ID.test(value) ? value : undefined
}

/**
 * Graph's error body, for gateway errors on Graph routes, so Graph clients (the Graph SDKs' GraphError)
 * parse gateway and Graph errors alike: `innerError` carries `request-id`, `date` (UTC, Graph's
 * format without zone) and the caller's `client-request-id`.
 */
export function renderGraphError (code: ErrorCode, message: string, requestId: string, clientId?: string, now = new Date()): string {
  const innerError = { date: now.toISOString().slice(0, 19), 'request-id': requestId, ...(clientId === undefined ? {} : { 'client-request-id': clientId }) }
  return JSON.stringify({ error: { code, message, innerError } })
}
