import type { ServerResponse } from 'node:http'
import { sendJson, uuid } from './http-util.js'

/** An Entra token-endpoint failure: HTTP status, OAuth error and AADSTS number. */
export interface EntraError { status: number, error: string, aadsts: number, message: string }

/** Entra's timestamp format in error bodies: `2024-05-01 12:34:56Z`. */
function entraTimestamp (d = new Date()): string {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

/** Writes Entra's real error JSON shape; correlation_id echoes client-request-id when given. */
export function sendEntraError (res: ServerResponse, e: EntraError, correlationId: string | undefined, headers: Record<string, string> = {}): void {
  const traceId = uuid()
  const corr = correlationId ?? uuid()
  const timestamp = entraTimestamp()
  sendJson(res, e.status, {
    error: e.error,
    error_description: `AADSTS${e.aadsts}: ${e.message} Trace ID: ${traceId} Correlation ID: ${corr} Timestamp: ${timestamp}`,
    error_codes: [e.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${e.aadsts}`
  }, headers)
}

/** Default OAuth error for a scripted status fault. */
export function defaultFaultError (status: number): string {
  if (status === 429) return 'temporarily_unavailable'
  if (status >= 500) return 'server_error'
  return 'invalid_request'
}

/** Default AADSTS number for a scripted status fault (90033 = transient error). */
export function defaultFaultCode (status: number): number {
  return status === 429 || status >= 500 ? 90033 : 90014
}

export const errors = {
  tenantNotFound: (tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_request',
    aadsts: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`
  }),
  postOnly: (): EntraError => ({
    status: 400, error: 'invalid_request', aadsts: 900561, message: 'The endpoint only accepts POST requests.'
  }),
  unsupportedGrant: (grant: string): EntraError => ({
    status: 400, error: 'unsupported_grant_type', aadsts: 70003, message: `The app requested an unsupported grant type '${grant}'.`
  }),
  appNotFound: (clientId: string, tenant: string): EntraError => ({
    status: 400,
    error: 'unauthorized_client',
    aadsts: 700016,
    message: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`
  }),
  badSecret: (clientId: string): EntraError => ({
    status: 401,
    error: 'invalid_client',
    aadsts: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`
  }),
  badAssertion: (): EntraError => ({
    status: 401, error: 'invalid_client', aadsts: 700027, message: 'Client assertion failed signature validation.'
  }),
  badScope: (scope: string, tenant: string): EntraError => ({
    status: 400,
    error: 'invalid_scope',
    aadsts: 500011,
    message: `The resource principal named ${scope} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`
  })
}
