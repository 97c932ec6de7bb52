import { z } from 'zod'
import { secretRefSchema } from './schema-common.js'

/** Fleet reads (src/fleet): one paged call across every tenant a client may read. */
export const fleetSchema = z.strictObject({
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
