/** Why a tenant still has items to give after this page. */
export type PendingReason = 'more' | 'budget' | 'busy' | 'time' | 'cursor'

/** The `@gateway.fleet` member of every fleet page: where the iteration stands and what each tenant touched did. */
export interface PageReport {
  /** tenants in this iteration */
  tenants: number
  /** tenants finished (or given up) so far, this page included */
  done: number
  /** started and not finished */
  inProgress: number
  notStarted: number
  /** items on this page */
  items: number
  /** tenants that gave their last page on this page */
  complete: string[]
  /** tenants touched by this page that have more to give */
  pending: Array<{ tenantId: string, reason: PendingReason, retryAfter?: number }>
  /** tenants whose read failed on this page; `willRetry: false` = given up for this iteration */
  failed: Array<{ tenantId: string, error: { code: string, message: string }, retryAfter?: number, willRetry: boolean }>
}

/** An empty report for a page of `tenants` tenants. */
export function newReport (tenants: number): PageReport {
  return { tenants, done: 0, inProgress: 0, notStarted: 0, items: 0, complete: [], pending: [], failed: [] }
}

/** Serialises the page's last part: the report, Defender's context and the next link (none at the end). */
export function pageEnd (report: PageReport, context: string, nextLink: string | undefined): string {
  const next = nextLink === undefined ? '' : `,"@odata.nextLink":${JSON.stringify(nextLink)}`
  return `],"@odata.context":${JSON.stringify(context)},"@gateway.fleet":${JSON.stringify(report)}${next}}`
}

/** Items as passed on: every object gets `gatewayTenantId` (set last, so an item cannot forge it). */
export function itemsText (items: readonly unknown[], tenantId: string): string {
  return items.map((item) => JSON.stringify(typeof item === 'object' && item !== null && !Array.isArray(item)
    ? { ...item, gatewayTenantId: tenantId }
    : { value: item, gatewayTenantId: tenantId })).join(',')
}

/** A Defender answer's items: its `value` collection, or the answer itself as one entity. */
export function itemsOf (body: Record<string, unknown>): unknown[] {
  if (Array.isArray(body.value)) return body.value
  return [Object.fromEntries(Object.entries(body).filter(([key]) => !key.startsWith('@odata.')))]
}
