/** The issuing side of gateway tokens: one way in from app.ts. */
export { registerTokenEndpoint, type TokenEndpointOptions } from './routes.js'
export { createOAuthMetrics, type OAuthMetrics } from './metrics.js'
