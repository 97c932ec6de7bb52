import type { Client } from '../callers/authenticate.js'
import type { RouteSpec } from '../policy/catalogue-data.js'
import type { Region } from '../regions/select.js'
import type { TenantToken } from '../tokens/types.js'

/** What the hooks learn about a request, in the order they learn it; the proxy only reads it. */
export interface RequestState {
  client?: Client
  tenantId?: string
  /** the tenant as the caller named it (id or alias, lowercase): rewritten links keep it */
  tenantRef?: string
  /** the tenant exactly as the caller wrote it, for refusal messages */
  tenantWritten?: string
  /** the caller used Defender's own layout (`/api/...` with a gateway token): links keep that layout */
  rootLayout?: boolean
  route?: RouteSpec
  /** the request is for the Microsoft Graph security API (src/graph), not Defender for Endpoint */
  api?: 'graph'
  permission?: string
  upstreamPath?: string
  query?: string
  token?: TenantToken
  region?: Region
  /** next-nearest allowed regions, for one failover of an idempotent request */
  fallbacks?: Region[]
  /** set once a request has failed over, so it never does twice */
  failedOver?: string
  /** set once a request was replayed after Defender rejected our token */
  replayed?: boolean
  /** performance.now() when the upstream request started / answered with headers */
  upstreamStart?: number
  upstreamHeadersAt?: number
  /** why forwarding failed (error code), for the access log */
  upstreamFailed?: string
  /** while the body is still arriving: ends it with an error (the request deadline) */
  abortBody?: (err: Error) => void
  /** while a call to Defender is open: aborts it (the request deadline) */
  abortUpstream?: () => void
  /** the gateway error code the request was answered with, if any */
  denied?: string
  /** Defender's correlation target / created entity id for a write, for the audit line */
  writeOutcome?: { target?: string, id?: string }
}

declare module 'fastify' {
  interface FastifyRequest {
    gw: RequestState
  }
}

/** Tenant as the pipeline needs it: policy, residency. */
export interface TenantEntry {
  readonly id: string
  readonly permissions: ReadonlySet<string>
  readonly regions?: readonly string[]
}
