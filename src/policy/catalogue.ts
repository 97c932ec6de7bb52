import { ROUTES, type HttpMethod, type Permission, type RateClass, type RouteSpec } from './catalogue-data.js'

/** A route an operator added in config (`extraRoutes`), already validated against the vocabulary. */
export interface ExtraRoute {
  readonly name: string
  readonly method: string
  readonly template: string
  readonly permissions: readonly string[]
  readonly rateClass: string
  readonly writes?: boolean
}

/** The catalogue in force: the built-in table plus the operator's additions (checked by config load). */
export function catalogue (extra: readonly ExtraRoute[]): readonly RouteSpec[] {
  if (extra.length === 0) return ROUTES
  return [...ROUTES, ...extra.map((r): RouteSpec => ({
    name: r.name,
    method: r.method as HttpMethod,
    template: r.template,
    permissions: r.permissions as Permission[],
    rateClass: r.rateClass as RateClass,
    writes: r.writes ?? r.method !== 'GET'
  }))]
}
