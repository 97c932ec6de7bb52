import { splitGranted } from '../policy/consent.js'
import { TokenError, type TokenProvider } from '../tokens/types.js'
import { apiOfPermission } from './vocabulary.js'

/** The two resources of the gateway's app, each with its own token provider. */
export interface ApiTokens {
  readonly defender: TokenProvider
  readonly graph: TokenProvider
}

/** An API of the gateway's app, by its key. */
export type ApiKey = keyof ApiTokens

/** One API's consent in a tenant: what config lists for it, what the tenant's token grants, what is missing. */
export interface ApiConsent {
  readonly api: ApiKey
  /** the API as people know it */
  readonly title: string
  readonly configured: readonly string[]
  readonly granted: readonly string[]
  readonly missing: readonly string[]
  readonly token: { readonly ok: true, readonly expiresOn: string } | { readonly ok: false, readonly errorClass: string, readonly error: string }
}

/** The APIs as people know them (admin API, CLI, pages). */
export const API_TITLES: Readonly<Record<ApiKey, string>> = { defender: 'Microsoft Defender for Endpoint API (WindowsDefenderATP)', graph: 'Microsoft Graph security API' }

/** Which APIs to report on and how to get their tokens (defaults: both, the cached token if any). */
export interface ConsentOptions {
  readonly apis?: readonly ApiKey[]
  /** ask Entra ID for a new token (after a consent) instead of taking the cached one */
  readonly fresh?: boolean
}

/**
 * Consent per resource: for each API, the tenant's configured permissions of that API checked against
 * the roles of that API's token (tokens are per resource, so are grants). An API the tenant lists no
 * permission of is reported without asking Entra ID for a token. The providers check each token's
 * tenant and audience where it is acquired, so a token of the other resource never counts as a grant.
 */
export async function consentByApi (tokens: ApiTokens, tenantId: string, permissions: Iterable<string>, requestId: string, options: ConsentOptions = {}): Promise<ApiConsent[]> {
  const all = [...permissions].sort()
  return await Promise.all((options.apis ?? ['defender', 'graph'] as const).map(async (api): Promise<ApiConsent> => {
    const configured = all.filter((p) => apiOfPermission(p) === api)
    const base = { api, title: API_TITLES[api], configured }
    if (configured.length === 0 && api === 'graph') {
      return { ...base, granted: [], missing: [], token: { ok: false, errorClass: 'not-configured', error: 'the tenant lists no permission of this API; no token was asked for' } }
    }
    try {
      const token = options.fresh === true ? await tokens[api].refresh(tenantId, requestId) : await tokens[api].get(tenantId, requestId)
      return { ...base, ...splitGranted(configured, token.roles), token: { ok: true, expiresOn: new Date(token.expiresOn).toISOString() } }
    } catch (err) {
      return { ...base, granted: [], missing: configured, token: { ok: false, errorClass: err instanceof TokenError ? err.kind : 'error', error: err instanceof Error ? err.message : String(err) } }
    }
  }))
}
