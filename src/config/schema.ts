import { z } from 'zod'
import { fileRef, guid, name, port, secretRefSchema, url } from './schema-common.js'
import { graphSchema } from './schema-graph.js'
import { redisSchema } from './schema-redis.js'
import { limitsSchema } from './schema-limits.js'
import { oauthSchema } from './schema-oauth.js'
import { onboardingSchema } from './schema-onboarding.js'
import { fleetSchema } from './schema-fleet.js'

/** The only declaration of the config's shape; every config type is derived from it (sections in schema-*.ts). */

export { secretRefSchema } from './schema-common.js'

const serverSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: port.default(8080),
  /** base of rewritten links (@odata.nextLink); default: the listener's own address, never the Host header */
  publicUrl: url(['http:', 'https:'], { userinfo: 'checked' }).refine((value) => {
    try {
      const u = new URL(value)
      return u.username === '' && u.password === '' && u.search === '' && u.hash === ''
    } catch { return false }
  }, 'must be a base URL without user, query or fragment').optional(),
  tls: z.strictObject({ certFile: fileRef, keyFile: fileRef }).optional(),
  /** trust X-Forwarded-* from a load balancer in front of the gateway */
  trustProxy: z.boolean().default(false),
  /** largest request body forwarded (the library upload allows 20 MB files) */
  bodyLimitBytes: z.number().int().positive().default(25 * 1024 * 1024),
  /** on SIGTERM: how long readiness fails (and answers say Connection: close) before the listener closes */
  drainDelayMs: z.number().int().min(0).max(120_000).default(5_000),
  /** a request body that sends no byte for this long is answered 408; nothing is forwarded */
  bodyIdleTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
  /** one request, from its arrival to the last byte of its answer (advanced queries run up to 200 s) */
  requestDeadlineMs: z.number().int().positive().max(3_600_000).default(600_000),
  /** a caller that takes no byte of a pending answer for this long is cut off, freeing Defender's connection */
  responseWriteIdleMs: z.number().int().positive().max(600_000).default(30_000),
  /** requests one client may have in flight in one process; more get 429 */
  maxInFlightPerClient: z.number().int().positive().default(128),
  /** requests for one tenant in flight in one process, whatever the client; more get 429 */
  maxInFlightPerTenant: z.number().int().positive().default(192),
  /**
   * processes serving the API listener (node:cluster; Node 20 has no reusePort): one Node process uses
   * one CPU for JavaScript. 1 = a single process, no cluster.
   */
  workers: z.number().int().min(1).max(64).default(1)
})

const adminSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(9464),
  token: secretRefSchema.optional(),
  /** how long a status-page sign-in lasts (src/pages/status) */
  sessionMinutes: z.number().int().min(5).max(1440).default(480)
})

const certificateSchema = z.strictObject({ keyFile: fileRef, certFile: fileRef })
const isoDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'must be a date such as 2027-03-31 or 2027-03-31T12:00:00Z')

/** One app credential; a list of them allows a rotation (new first, old as fallback). */
export const credentialSchema = z.strictObject({
  /** label in logs and in the credential expiry metric; default: its place in the config */
  name: name.optional(),
  secret: secretRefSchema.optional(),
  certificate: certificateSchema.optional(),
  /** federated (workload identity) assertion, re-read whenever the file changes */
  assertionFile: fileRef.optional(),
  /** when a secret expires (Entra shows it); certificates carry their own notAfter */
  expiresOn: isoDate.optional()
})

const identitySchema = z.strictObject({
  clientId: guid,
  secret: secretRefSchema.optional(),
  certificate: certificateSchema.optional(),
  assertionFile: fileRef.optional(),
  /** several credentials, tried in order; instead of secret / certificate / assertionFile */
  credentials: z.array(credentialSchema).min(1).max(4).optional(),
  /** warn in the logs when a credential expires within this many days */
  expiryWarningDays: z.number().int().min(0).default(30),
  /** login host override (sovereign clouds, tests); default from `cloud` */
  authorityHost: url(['https:'], { upstream: true }).optional(),
  /** token resource override; the scope sent is `${resource}/.default` */
  resource: url(['https:']).optional()
})

const upstreamSchema = z.strictObject({
  /** `auto` = nearest healthy region the tenant allows; otherwise a region name */
  region: z.string().min(1).default('auto'),
  /** region name → base URL; replaces the cloud's table when given */
  regions: z.record(name, url(['https:', 'http:'], { upstream: true })).optional(),
  timeoutMs: z.number().int().positive().default(210_000),
  connectTimeoutMs: z.number().int().positive().default(10_000),
  /** pooled keep-alive connections per region (and process); requests beyond wait for one */
  connections: z.number().int().min(1).max(4096).default(256),
  /** how often each region's round trip is measured (jittered ±20%) */
  probeIntervalMs: z.number().int().min(1000).default(30_000),
  probeTimeoutMs: z.number().int().positive().default(3_000),
  /** extra `host` or `host:port` names whose @odata.nextLink values are Defender's own (rewritten) */
  nextLinkHosts: z.array(z.string().regex(/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/, 'must be a host name or host:port')).default([]),
  /** a compressed answer the gateway rewrites is refused (502) beyond this many inflated bytes */
  maxInflatedBytes: z.number().int().min(1024 * 1024).default(1024 * 1024 * 1024),
  /** ... or beyond this many times its compressed size (judged after 256 KiB) */
  maxInflationRatio: z.number().int().min(10).default(200)
})

const tokensSchema = z.strictObject({
  /** a token is used until expiry minus this margin */
  skewSeconds: z.number().int().min(0).max(1800).default(300),
  maxTenants: z.number().int().positive().default(50_000),
  timeoutMs: z.number().int().positive().default(10_000),
  /** renew tokens in use this long before they stop being used (or a sixth of their life); 0 = off */
  refreshAheadSeconds: z.number().int().min(0).max(3600).default(600),
  /**
   * at most one re-acquisition per tenant this often (a token Defender rejected, an operator's forced
   * refresh); everyone asking inside the window shares it. 0: only concurrent callers share one.
   */
  reacquireCooldownMs: z.number().int().min(0).max(3_600_000).default(30_000),
  /** how long "not consented in this tenant" is remembered */
  notOnboardedTtlSeconds: z.number().int().min(0).max(3600).default(30),
  /** per-tenant wait after failed token requests, doubling up to maxMs; Retry-After is always honoured */
  backoff: z.strictObject({
    initialMs: z.number().int().min(0).default(1000),
    maxMs: z.number().int().min(0).default(60_000)
  }).prefault({})
})

export const tenantSchema = z.strictObject({
  id: guid,
  name: name.optional(),
  permissions: z.array(z.string()).default([]),
  /** data residency: the only regions this tenant's requests may go to */
  regions: z.array(z.string()).optional()
})

export const clientSchema = z.strictObject({
  name,
  /** what an OAuth2 connector sends as client_id (many insist on a GUID); the name works too */
  clientId: guid.optional(),
  keySha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the hex SHA-256 of the key (64 hex digits)'),
  /** tenant ids or names, or '*' for every configured tenant */
  tenants: z.array(z.string().min(1)).min(1),
  permissions: z.array(z.string()).default([])
})

/** A Defender route published after this release, so operators need not wait for one. */
const extraRouteSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9.]{0,63}$/, 'must be a dotted name such as machines.newAction'),
  method: z.enum(['GET', 'POST', 'PATCH', 'DELETE']),
  template: z.string().regex(/^\/api(\/(\{[A-Za-z]+\}|[A-Za-z0-9$._-]+(\(\{[A-Za-z]+\}\))?))+$/, "must look like '/api/machines/{id}/newAction'"),
  permissions: z.array(z.string()).min(1),
  rateClass: z.string().default('default'),
  /** state-changing routes are audited; defaults to true for everything but GET */
  writes: z.boolean().optional()
})

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  admin: adminSchema.prefault({}),
  cloud: z.enum(['public', 'gcc', 'gcc-high', 'dod']).default('public'),
  identity: identitySchema,
  trust: z.strictObject({ caFile: fileRef.optional() }).prefault({}),
  upstream: upstreamSchema.prefault({}),
  graph: graphSchema.prefault({}),
  tokens: tokensSchema.prefault({}),
  tenants: z.array(tenantSchema).default([]),
  clients: z.array(clientSchema).default([]),
  oauth: oauthSchema.optional(),
  onboarding: onboardingSchema.optional(),
  redis: redisSchema.optional(),
  limits: limitsSchema.prefault({}),
  extraRoutes: z.array(extraRouteSchema).default([]),
  fleet: fleetSchema.prefault({}),
  logging: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
  }).prefault({}),
  metrics: z.strictObject({ tenantLabel: z.boolean().default(false) }).prefault({})
})

export type SecretRef = z.output<typeof secretRefSchema>
export type ConfigInput = z.input<typeof configSchema>
/** Parsed config before cross-checks; `Config` (load.ts) is this with names normalised and files read. */
export type ParsedConfig = z.output<typeof configSchema>
export type TenantConfig = ParsedConfig['tenants'][number]
export type ClientConfig = ParsedConfig['clients'][number]
export type CredentialConfig = z.output<typeof credentialSchema>
export type RedisConfig = NonNullable<ParsedConfig['redis']>
export type LimitsConfig = ParsedConfig['limits']
export type OAuthConfig = NonNullable<ParsedConfig['oauth']>
export type OnboardingConfig = NonNullable<ParsedConfig['onboarding']>
export type FleetConfig = ParsedConfig['fleet']
