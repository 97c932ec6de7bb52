import { z } from 'zod'

/** The only declaration of the config's shape; every config type is derived from it. */

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID')
const port = z.number().int().min(0).max(65535)
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
const LOOPBACK = new Set(['localhost', '[::1]'])
/**
 * An absolute URL of one of `protocols`, one problem at most. Never with user info: a password there
 * would be shown wherever the URL is (logs, /admin/regions, pages); `userinfo: 'checked'` leaves that to
 * a section with its own message (redis). `upstream`: it carries bearer tokens, so plain http only to a
 * loopback host (a local TLS-originating sidecar, tests).
 */
const url = (protocols: string[], opts: { userinfo?: 'checked', upstream?: boolean } = {}) => z.string().superRefine((value, ctx) => {
  const problem = urlProblem(value, protocols, opts)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

function urlProblem (value: string, protocols: string[], opts: { userinfo?: 'checked', upstream?: boolean }): string | undefined {
  let parsed: URL
  try { parsed = new URL(value) } catch { parsed = new URL('invalid:') }
  if (!protocols.includes(parsed.protocol)) return `must be an absolute ${protocols.join(' or ')} URL`
  if (opts.userinfo === undefined && (parsed.username !== '' || parsed.password !== '')) {
    return 'must not contain a user name or password (secrets go in {fromEnv} or {fromFile})'
  }
  const loopback = LOOPBACK.has(parsed.hostname.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(parsed.hostname)
  if (opts.upstream === true && parsed.protocol === 'http:' && !loopback) {
    return 'must be https (it carries bearer tokens); http only to a loopback host (127.0.0.1, ::1, localhost)'
  }
  return undefined
}

/** Secrets are references only, so a config file can be committed and shown without leaking anything. */
export const secretRefSchema = z.union([
  z.strictObject({ fromEnv: z.string().min(1) }),
  z.strictObject({ fromFile: z.string().min(1) })
], { error: 'must be {fromEnv: NAME} or {fromFile: PATH}; secrets are never written inline' })

const fileRef = z.string().min(1)

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

/** The Microsoft Graph security API (src/graph); host and token resource follow `cloud` unless set. */
const graphSchema = z.strictObject({
  /** Graph service root override (a private endpoint, tests); default from `cloud` */
  url: url(['https:', 'http:'], { upstream: true }).optional(),
  /** token resource override; the scope sent is `${resource}/.default` */
  resource: url(['https:']).optional()
})

const hostPort = z.string().regex(/^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):\d{1,5}$/, "must be 'host:port'")

/** Shared state for replicas; without it tokens and budgets live in each process (the default). */
const redisSchema = z.strictObject({
  /** one Redis node: redis:// or rediss://, without credentials (use `username` and `password`) */
  url: url(['redis:', 'rediss:'], { userinfo: 'checked' }).optional(),
  /** a Sentinel-managed primary: the sentinels to ask and the primary's name (`sentinel monitor <name>`) */
  sentinel: z.strictObject({
    nodes: z.array(hostPort).min(1).max(16),
    primaryName: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore'),
    /** when the sentinels themselves require AUTH (their own requirepass / ACL user) */
    username: z.string().min(1).max(128).optional(),
    password: secretRefSchema.optional()
  }).optional(),
  /** Redis Cluster: a few seed nodes; the rest of the cluster is discovered from them */
  cluster: z.strictObject({ nodes: z.array(hostPort).min(1).max(64) }).optional(),
  /** TLS to the sentinels' and cluster's nodes (a url says it with rediss://); CA from trust.caFile */
  tls: z.boolean().optional(),
  /** ACL user (Redis 6+); without it, `password` is the default user's */
  username: z.string().min(1).max(128).optional(),
  /** key material (at least 32 characters) for AES-256-GCM encryption of tokens at rest; required */
  tokenKey: secretRefSchema.optional(),
  password: secretRefSchema.optional(),
  /** prefix of every key, so one Redis can serve several gateways */
  keyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{1,32}$/, 'must be 1-32 letters, digits or : _ . -').default('dgw:'),
  /** a Redis call slower than this is abandoned and served from local state */
  commandTimeoutMs: z.number().int().positive().max(10_000).default(500),
  connectTimeoutMs: z.number().int().positive().max(60_000).default(2000),
  /** mean wait (jittered ±50%) between PINGs while a failed Redis is skipped; the first answer resumes sharing */
  probeIntervalMs: z.number().int().min(10).max(60_000).default(1000)
})

const classLimitSchema = z.strictObject({
  perMinute: z.number().int().positive().nullable().optional(),
  perHour: z.number().int().positive().nullable().optional()
})

const shareSchema = z.number().gt(0, 'must be more than 0').max(1, 'must be at most 1')

/** Rate budgets per (tenant, rate class), enforced before Defender's own throttling. */
const limitsSchema = z.strictObject({
  /** how long a request may wait for a slot before 429 RateLimited */
  maxWaitMs: z.number().int().min(0).max(60_000).default(2000),
  /** tenants whose budgets are kept in memory (least recently used are forgotten) */
  maxTenants: z.number().int().positive().default(50_000),
  /** client name → largest fraction of a tenant's budget that client may use */
  clientShares: z.record(name, shareSchema).default({}),
  /** share of clients not listed in clientShares (1 = no cap of their own) */
  defaultClientShare: shareSchema.default(1),
  /** fraction of each budget one replica uses while Redis is down (1 / replicas is strictly safe) */
  fallbackShare: shareSchema.default(1),
  /** per rate class overrides of the catalogue's limits (null = none) */
  classes: z.record(z.string(), classLimitSchema).default({})
})

/** The OAuth2 token endpoint for unmodified Defender clients (src/token-endpoint); absent = off. */
const oauthSchema = z.strictObject({
  /** HS256 key material (at least 32 characters), the same on every replica */
  signingKey: secretRefSchema,
  /** older signing keys still accepted for verification during a rotation */
  previousKeys: z.array(secretRefSchema).max(4).default([]),
  tokenLifetimeSeconds: z.number().int().min(60).max(86_400).default(3599),
  /** `iss` of issued tokens; default `defender-gateway` */
  issuer: z.string().min(1).max(256).default('defender-gateway'),
  /** failed client authentications per client id and per source address before 429 */
  maxFailures: z.number().int().min(1).max(1000).default(10),
  /** the window those failures are counted in (and the longest Retry-After) */
  failureWindowSeconds: z.number().int().min(1).max(86_400).default(300),
  /** token requests served at once (per process); more are answered 429 temporarily_unavailable */
  maxInFlight: z.number().int().min(1).max(10_000).default(64)
})

/** The customer onboarding pages on the public listener (src/pages/onboarding); absent = off. */
const onboardingSchema = z.strictObject({
  /** HMAC key material (at least 32 characters) for onboarding links and consent `state`; the same on every replica */
  signingKey: secretRefSchema,
  /** how long a link sent to a customer's admin keeps working */
  linkLifetimeDays: z.number().int().min(1).max(365).default(30),
  /** how long an admin has from the onboarding page to coming back from Microsoft's consent page */
  stateLifetimeMinutes: z.number().int().min(1).max(120).default(30),
  /** the redirect URI registered on the app; default `<server.publicUrl or the listener's address>/onboarding/callback` */
  redirectUri: url(['https:', 'http:']).optional()
})

/** Fleet reads (src/fleet): one paged call across every tenant a client may read. */
const fleetSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** tenants read at once by one fleet page */
  concurrency: z.number().int().min(1).max(64).default(8),
  /** tenants a cursor carries in progress at most (its size bound; see README) */
  maxTenantsInProgress: z.number().int().min(1).max(48).default(32),
  /** a page answers with what it has after this long; tenants still reading are retried on the next page */
  pageTimeoutMs: z.number().int().min(100).max(600_000).default(20_000),
  /** one tenant's page is read whole before it is passed on (memory: concurrency x this) */
  maxTenantPageBytes: z.number().int().min(64 * 1024).max(256 * 1024 * 1024).default(16 * 1024 * 1024),
  /** tenant pages read at once by all fleet pages of the process together (memory: this x maxTenantPageBytes x ~4) */
  maxTenantReads: z.number().int().min(1).max(1024).default(16),
  /** transient failures of one tenant in one iteration before it is reported as given up and dropped */
  maxTenantFailures: z.number().int().min(1).max(100).default(3),
  /** fleet pages one client may have open at once (per process) */
  maxPagesPerClient: z.number().int().min(1).max(1000).default(4),
  /** a cursor older than this is refused (400); the connector starts over */
  cursorMaxAgeSeconds: z.number().int().min(60).max(30 * 86_400).default(86_400),
  /** HMAC key for cursors, the same on every replica; absent: a random key per process */
  cursorKey: secretRefSchema.optional()
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
