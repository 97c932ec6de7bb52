import { z } from 'zod'
import { name } from './schema-common.js'

const classLimitSchema = z.strictObject({
  perMinute: z.number().int().positive().nullable().optional(),
  perHour: z.number().int().positive().nullable().optional()
})

const shareSchema = z.number().gt(0, 'must be more than 0').max(1, 'must be at most 1')

/** Rate budgets per (tenant, rate class), enforced before Defender's own throttling. */
export const limitsSchema = z.strictObject({
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
