/**
 * The OpenID configuration msal-node and @azure/identity fetch for a non-Microsoft authority
 * (`{authority}/v2.0/.well-known/openid-configuration`): they need `authorization_endpoint`,
 * `token_endpoint`, `issuer` (on the authority's own host) and `jwks_uri`, and POST to `token_endpoint`.
 */
export function openIdConfiguration (origin: string, tenantRef: string, version: 'v1' | 'v2'): Record<string, unknown> {
  const base = `${origin}/${tenantRef}`
  const v = version === 'v2' ? '/v2.0' : ''
  return {
    issuer: version === 'v2' ? `${base}/v2.0` : `${origin}/${tenantRef}/`,
    token_endpoint: `${base}/oauth2${v}/token`,
    authorization_endpoint: `${base}/oauth2${v}/authorize`,
    jwks_uri: `${origin}/${tenantRef}/discovery${v}/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    grant_types_supported: ['client_credentials'],
    response_types_supported: ['token'],
    id_token_signing_alg_values_supported: ['HS256'],
    subject_types_supported: ['pairwise'],
    scopes_supported: ['openid'],
    tenant_region_scope: null,
    cloud_instance_name: 'defender-gateway'
  }
}
