import { z } from 'zod'
import { secretRefSchema } from './schema-common.js'

/** The OAuth2 token endpoint for unmodified Defender clients (src/token-endpoint); absent = off. */
export const oauthSchema = z.strictObject({
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
