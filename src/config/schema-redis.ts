import { z } from 'zod'
import { secretRefSchema, url } from './schema-common.js'

const hostPort = z.string().regex(/^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):\d{1,5}$/, "must be 'host:port'")

/** Shared state for replicas; without it tokens and budgets live in each process (the default). */
export const redisSchema = z.strictObject({
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
