import type { Handler } from './defender-context.js'
import { alertMachine, getAlert, listAlerts, machineAlerts, machineAlertsCount, patchAlert } from './defender-alerts.js'
import { findByIp, getAction, getMachine, listActions, liveResponseLink, listMachines, machineAction, packageUri } from './defender-machines.js'
import { advancedQuery, deleteIndicator, listIndicators, listSoftware, listVulnerabilities, postIndicator, vulnerabilitiesExport } from './defender-misc.js'
import { softwareInventoryByMachine } from './defender-export.js'

/** One row of the simulator's own route table: any one of `roles` (case-insensitive) suffices. */
export interface SimRoute { method: string, pattern: RegExp, roles: string[], handler: Handler }

const ALERT_R = ['Alert.Read.All', 'Alert.ReadWrite.All']
const MACHINE_R = ['Machine.Read.All', 'Machine.ReadWrite.All']
const TI_RW = ['Ti.ReadWrite', 'Ti.ReadWrite.All']
const SEG = '([^/]+)'

function r (method: string, path: string, roles: string[], handler: Handler): SimRoute {
  return { method, pattern: new RegExp(`^/api${path}$`, 'i'), roles, handler }
}

/**
 * Written from the reference (§3), independently of the gateway's catalogue. Paths are matched against the
 * percent-decoded path with any `/api/v1.0` prefix folded to `/api`; specific rows come before `{id}` rows.
 */
export const ROUTES: SimRoute[] = [
  r('GET', '/alerts', ALERT_R, listAlerts),
  r('GET', `/alerts/${SEG}`, ALERT_R, getAlert),
  r('PATCH', `/alerts/${SEG}`, ['Alert.ReadWrite.All'], patchAlert),
  r('GET', `/alerts/${SEG}/machine`, MACHINE_R, alertMachine),
  r('GET', '/machines', MACHINE_R, listMachines),
  r('GET', "/machines/findbyip\\(ip='([^']*)',timestamp=([^)]*)\\)", MACHINE_R, findByIp),
  r('GET', '/machines/SoftwareInventoryByMachine', ['Software.Read.All'], softwareInventoryByMachine),
  r('GET', '/machines/SoftwareVulnerabilitiesExport', ['Vulnerability.Read.All'], vulnerabilitiesExport),
  r('GET', `/machines/${SEG}`, MACHINE_R, getMachine),
  r('GET', `/machines/${SEG}/alerts`, ALERT_R, machineAlerts),
  r('GET', `/machines/${SEG}/alerts/\\$count`, ALERT_R, machineAlertsCount),
  r('POST', `/machines/${SEG}/isolate`, ['Machine.Isolate'], machineAction('Isolate')),
  r('POST', `/machines/${SEG}/unisolate`, ['Machine.Isolate'], machineAction('Unisolate')),
  r('POST', `/machines/${SEG}/runAntiVirusScan`, ['Machine.Scan'], machineAction('RunAntiVirusScan')),
  r('GET', '/machineactions', MACHINE_R, listActions),
  r('GET', `/machineactions/${SEG}`, MACHINE_R, getAction),
  r('GET', `/machineactions/${SEG}/getPackageUri`, MACHINE_R, packageUri),
  r('GET', `/machineactions/${SEG}/GetLiveResponseResultDownloadLink\\(index=(\\d+)\\)`, MACHINE_R, liveResponseLink),
  r('GET', '/indicators', TI_RW, listIndicators),
  r('POST', '/indicators', TI_RW, postIndicator),
  r('DELETE', `/indicators/${SEG}`, TI_RW, deleteIndicator),
  r('POST', '/advancedqueries/run', ['AdvancedQuery.Read.All'], advancedQuery),
  r('GET', '/Software', ['Software.Read.All'], listSoftware),
  r('GET', '/vulnerabilities', ['Vulnerability.Read.All'], listVulnerabilities)
]

/** Folds `/api/v1.0/...` into `/api/...` and percent-decodes for matching (never used to build output). */
export function normalisePath (rawPath: string): string {
  let p = rawPath
  try { p = decodeURIComponent(rawPath) } catch {}
  p = p.replace(/\/+$/, '')
  return p.replace(/^\/api\/v1\.0(?=\/|$)/i, '/api')
}

export type RouteMatch = { route: SimRoute, params: string[] } | { route: undefined, methodMismatch: boolean }

/** Finds the route for (method, normalised path). */
export function matchRoute (method: string, path: string): RouteMatch {
  let methodMismatch = false
  for (const route of ROUTES) {
    const m = route.pattern.exec(path)
    if (m === null) continue
    if (route.method === method) return { route, params: m.slice(1) }
    methodMismatch = true
  }
  return { route: undefined, methodMismatch }
}

/** True when the token holds any one of the route's roles (compared case-insensitively). */
export function hasRole (granted: string[], accepted: string[]): boolean {
  const set = new Set(granted.map(g => g.toLowerCase()))
  return accepted.some(a => set.has(a.toLowerCase()))
}
