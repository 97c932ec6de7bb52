import { OAuthError } from './oauth-errors.js'

/** A client-credentials request as the endpoint reads it, whatever way the client sent it. */
export interface TokenRequest {
  readonly grantType: string
  readonly clientId: string
  /** undefined when the client sent none (Entra: AADSTS7000218) */
  readonly clientSecret?: string
  readonly scope?: string
  readonly resource?: string
}

const FIELDS = ['grant_type', 'client_id', 'client_secret', 'scope', 'resource'] as const

/**
 * Reads the form body and an optional `Authorization: Basic` header (RFC 6749 §2.3.1: both halves
 * form-encoded). Each parameter at most once, and credentials in one place only. Pure; throws OAuthError.
 */
export function parseTokenRequest (body: string, authorization: string | undefined): TokenRequest {
  const form = new URLSearchParams(body)
  const value: Partial<Record<typeof FIELDS[number], string>> = {}
  for (const field of FIELDS) {
    const all = form.getAll(field)
    if (all.length > 1) throw new OAuthError('invalid_request', `The request contains '${field}' more than once.`)
    if (all[0] !== undefined && all[0] !== '') value[field] = all[0]
  }
  const basic = basicCredentials(authorization)
  if (basic !== undefined && (value.client_id !== undefined && value.client_id !== basic.id)) {
    throw new OAuthError('invalid_request', 'Client credentials were sent both in the Authorization header and in the body.')
  }
  if (basic !== undefined && value.client_secret !== undefined) {
    throw new OAuthError('invalid_request', 'Client credentials were sent both in the Authorization header and in the body.')
  }
  const grantType = value.grant_type
  if (grantType === undefined) throw new OAuthError('invalid_request', "The request body must contain the parameter 'grant_type'.")
  const clientId = basic?.id ?? value.client_id
  if (clientId === undefined) throw new OAuthError('invalid_request', "The request body must contain the parameter 'client_id'.")
  return { grantType, clientId, clientSecret: basic?.secret ?? value.client_secret, scope: value.scope, resource: value.resource }
}

function basicCredentials (authorization: string | undefined): { id: string, secret: string } | undefined {
  if (authorization === undefined || authorization.slice(0, 6).toLowerCase() !== 'basic ') return undefined
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) throw new OAuthError('invalid_request', 'The Authorization header is not valid Basic client authentication.')
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    throw new OAuthError('invalid_request', 'The Authorization header is not valid Basic client authentication.')
  }
}

function formDecode (text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '))
}
