import { z } from 'zod'
import { url } from './schema-common.js'

/** The Microsoft Graph security API (src/graph); host and token resource follow `cloud` unless set. */
export const graphSchema = z.strictObject({
  /** Graph service root override (a private endpoint, tests); default from `cloud` */
  url: url(['https:', 'http:'], { upstream: true }).optional(),
  /** token resource override; the scope sent is `${resource}/.default` */
  resource: url(['https:']).optional()
})
