import { Counter, type Registry } from 'prom-client'

/** Token endpoint metrics: who gets tokens, who is refused and why, and which presented tokens fail. */
export interface OAuthMetrics {
  /** client = configured client name (bounded by the config) */
  readonly issued: Counter<'client' | 'version'>
  /** client = configured client name, or `unknown` for an unknown client_id */
  readonly refused: Counter<'client' | 'reason'>
  /** gateway tokens refused on the API (src/gateway-tokens BearerRejection) */
  readonly bearerRejections: Counter<'reason'>
}

export function createOAuthMetrics (registry: Registry): OAuthMetrics {
  const registers = [registry]
  return {
    issued: new Counter({ name: 'defender_gateway_oauth_tokens_issued_total', help: 'Gateway access tokens issued by the OAuth2 token endpoint.', labelNames: ['client', 'version'], registers }),
    refused: new Counter({ name: 'defender_gateway_oauth_token_refusals_total', help: 'Token requests refused by the OAuth2 token endpoint, by reason.', labelNames: ['client', 'reason'], registers }),
    bearerRejections: new Counter({ name: 'defender_gateway_oauth_bearer_rejections_total', help: 'Presented gateway access tokens refused on the API, by reason.', labelNames: ['reason'], registers })
  }
}
