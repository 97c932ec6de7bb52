import { z } from 'zod'
import { secretRefSchema, url } from './schema-common.js'

/** The customer onboarding pages on the public listener (src/pages/onboarding); absent = off. */
export const onboardingSchema = z.strictObject({
  /** HMAC key material (at least 32 characters) for onboarding links and consent `state`; the same on every replica */
  signingKey: secretRefSchema,
  /** how long a link sent to a customer's admin keeps working */
  linkLifetimeDays: z.number().int().min(1).max(365).default(30),
  /** how long an admin has from the onboarding page to coming back from Microsoft's consent page */
  stateLifetimeMinutes: z.number().int().min(1).max(120).default(30),
  /** the redirect URI registered on the app; default `<server.publicUrl or the listener's address>/onboarding/callback` */
  redirectUri: url(['https:', 'http:']).optional()
})
