import { PERMISSIONS, RATE_CLASSES, type Permission } from '../policy/catalogue-data.js'
import { GRAPH_PERMISSIONS, GRAPH_RATE_CLASSES, type GraphPermission } from './catalogue-data.js'

/** Every permission name config may list: Defender's (WindowsDefenderATP) and Graph's, in one vocabulary. */
export const ALL_PERMISSIONS: ReadonlyArray<Permission | GraphPermission> = [...PERMISSIONS, ...GRAPH_PERMISSIONS]

/** Every rate class budgets know, Defender's and Graph's (their names never collide). */
export const ALL_RATE_CLASSES = { ...RATE_CLASSES, ...GRAPH_RATE_CLASSES }

const GRAPH_SET = new Set<string>(GRAPH_PERMISSIONS.map((p) => p.toLowerCase()))

/** Which API a permission belongs to, so consent and gateway tokens are told apart per resource. */
export function apiOfPermission (permission: string): 'defender' | 'graph' {
  return GRAPH_SET.has(permission.toLowerCase()) ? 'graph' : 'defender'
}
