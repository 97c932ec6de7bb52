import { z } from 'zod'

/** The only declaration of the config's shape; every config type is derived from it. */

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID')
const port = z.number().int().min(0).max(65535)
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
const url = (protocols: string[]) => z.string().refine((value) => {
  try { return protocols.includes(new URL(value).protocol) } catch { return false }
}, `must be an absolute ${protocols.join(' or ')} URL`)

/** Secrets are references only, so a config file can be committed and shown without leaking anything. */
export const secretRefSchema = z.union([
  z.strictObject({ fromEnv: z.string().min(1) }),
  z.strictObject({ fromFile: z.string().min(1) })
], { error: 'must be {fromEnv: NAME} or {fromFile: PATH}; secrets are never written inline' })

const fileRef = z.string().min(1)

const serverSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: port.default(8080),
  /** base of rewritten links (@odata.nextLink); default: the request's own origin */
  publicUrl: url(['http:', 'https:']).optional(),
  tls: z.strictObject({ certFile: fileRef, keyFile: fileRef }).optional(),
  /** trust X-Forwarded-* from a load balancer in front of the gateway */
  trustProxy: z.boolean().default(false),
  /** largest request body forwarded (the library upload allows 20 MB files) */
  bodyLimitBytes: z.number().int().positive().default(25 * 1024 * 1024)
})

const adminSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(9464),
  token: secretRefSchema.optional()
})

const identitySchema = z.strictObject({
  clientId: guid,
  secret: secretRefSchema.optional(),
  certificate: z.strictObject({ keyFile: fileRef, certFile: fileRef }).optional(),
  /** login host override (sovereign clouds, tests); default from `cloud` */
  authorityHost: url(['https:']).optional(),
  /** token resource override; the scope sent is `${resource}/.default` */
  resource: url(['https:']).optional()
})

const upstreamSchema = z.strictObject({
  /** `auto` = nearest healthy region the tenant allows; otherwise a region name */
  region: z.string().min(1).default('auto'),
  /** region name → base URL; replaces the cloud's table when given */
  regions: z.record(name, url(['https:', 'http:'])).optional(),
  timeoutMs: z.number().int().positive().default(210_000),
  connectTimeoutMs: z.number().int().positive().default(10_000)
})

const tokensSchema = z.strictObject({
  /** a token is used until expiry minus this margin */
  skewSeconds: z.number().int().min(0).max(1800).default(300),
  maxTenants: z.number().int().positive().default(50_000),
  timeoutMs: z.number().int().positive().default(10_000)
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
  keySha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the hex SHA-256 of the key (64 hex digits)'),
  /** tenant ids or names, or '*' for every configured tenant */
  tenants: z.array(z.string().min(1)).min(1),
  permissions: z.array(z.string()).default([])
})

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  admin: adminSchema.prefault({}),
  cloud: z.enum(['public', 'gcc', 'gcc-high', 'dod']).default('public'),
  identity: identitySchema,
  trust: z.strictObject({ caFile: fileRef.optional() }).prefault({}),
  upstream: upstreamSchema.prefault({}),
  tokens: tokensSchema.prefault({}),
  tenants: z.array(tenantSchema).default([]),
  clients: z.array(clientSchema).default([]),
  redis: z.strictObject({ url: url(['redis:', 'rediss:']) }).optional(),
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
