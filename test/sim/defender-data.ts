import { createHash } from 'node:crypto'

/** Deterministic per-tenant Defender data plus the state that requests change. */
export interface TenantData {
  tenant: string
  machines: Machine[]
  alertPatches: Map<string, Record<string, unknown>>
  actions: Record<string, unknown>[]
  indicators: Record<string, unknown>[]
  nextIndicatorId: number
}

export interface Machine extends Record<string, unknown> { id: string, computerDnsName: string, lastIpAddress: string }

const BASE_TIME = Date.parse('2025-01-01T00:00:00Z')
const SEVERITIES = ['Informational', 'Low', 'Medium', 'High']
const STATUSES = ['New', 'InProgress', 'Resolved']
const MACHINES_PER_TENANT = 4

/** Hex digest used to derive stable ids from a tenant. */
export function hexOf (...parts: Array<string | number>): string {
  return createHash('sha1').update(parts.join('|')).digest('hex')
}

/** The 8 hex characters alert ids carry: the tenant GUID without dashes, first 8. */
export function tenantHex (tenant: string): string {
  const hex = tenant.replace(/[^0-9a-f]/gi, '').toLowerCase()
  return hex.length >= 8 ? hex.slice(0, 8) : hexOf(tenant).slice(0, 8)
}

function buildMachines (tenant: string): Machine[] {
  const short = tenantHex(tenant)
  return Array.from({ length: MACHINES_PER_TENANT }, (_, i) => ({
    id: hexOf('machine', tenant, i),
    computerDnsName: `host-${i + 1}.t${short}.contoso.local`,
    firstSeen: new Date(BASE_TIME - 86400_000 * (30 + i)).toISOString(),
    lastSeen: new Date(BASE_TIME + 3600_000 * i).toISOString(),
    osPlatform: i % 2 === 0 ? 'Windows11' : 'Windows10',
    osVersion: null,
    osProcessor: 'x64',
    version: i % 2 === 0 ? '23H2' : '22H2',
    lastIpAddress: `10.1.0.${i + 1}`,
    lastExternalIpAddress: `203.0.113.${i + 1}`,
    agentVersion: '10.8760.22621.1992',
    osBuild: 22621,
    healthStatus: 'Active',
    deviceValue: 'Normal',
    rbacGroupId: 0,
    rbacGroupName: null,
    riskScore: SEVERITIES[i % 4],
    exposureLevel: 'Medium',
    isAadJoined: true,
    aadDeviceId: null,
    machineTags: [],
    onboardingStatus: 'Onboarded'
  }))
}

/** Creates the mutable state of one tenant (machines are derived from the tenant id). */
export function newTenantData (tenant: string): TenantData {
  return { tenant, machines: buildMachines(tenant), alertPatches: new Map(), actions: [], indicators: [], nextIndicatorId: 1 }
}

function evidenceFor (alertId: string, machine: Machine): Record<string, unknown>[] {
  return [{
    entityType: 'File',
    evidenceCreationTime: null,
    sha1: hexOf('evidence', alertId),
    sha256: createHash('sha256').update(alertId).digest('hex'),
    fileName: 'malware.exe',
    filePath: 'C:\\Users\\Public',
    processId: null,
    parentProcessId: null,
    detectionStatus: 'Detected',
    userSid: null,
    userPrincipalName: null,
    deviceId: machine.id
  }]
}

/** Builds alert number `n` (1-based) of a tenant; ids look like `da<8 hex of tenant>_<n>`. */
export function alertAt (data: TenantData, n: number, withEvidence: boolean): Record<string, unknown> {
  const id = `da${tenantHex(data.tenant)}_${n}`
  const machine = data.machines[(n - 1) % data.machines.length]!
  const created = BASE_TIME + n * 60_000
  const alert: Record<string, unknown> = {
    id,
    incidentId: 1000 + n,
    investigationId: null,
    assignedTo: null,
    severity: SEVERITIES[n % SEVERITIES.length],
    status: STATUSES[n % STATUSES.length],
    classification: null,
    determination: null,
    investigationState: 'Queued',
    detectionSource: 'WindowsDefenderAv',
    detectorId: hexOf('detector', n % 5).slice(0, 32),
    category: 'Malware',
    threatFamilyName: 'Simulated',
    title: `Simulated alert ${n}`,
    description: `Simulated alert number ${n} for tenant ${data.tenant}`,
    alertCreationTime: new Date(created).toISOString(),
    firstEventTime: new Date(created - 120_000).toISOString(),
    lastEventTime: new Date(created - 60_000).toISOString(),
    lastUpdateTime: new Date(created + 30_000).toISOString(),
    resolvedTime: null,
    machineId: machine.id,
    computerDnsName: machine.computerDnsName,
    rbacGroupName: null,
    aadTenantId: data.tenant,
    threatName: 'Trojan:Win32/Simulated',
    mitreTechniques: ['T1059'],
    relatedUser: { userName: 'alice', domainName: 'CONTOSO' },
    comments: [],
    ...data.alertPatches.get(id)
  }
  if (withEvidence) alert.evidence = evidenceFor(id, machine)
  return alert
}

/** Parses an alert id of this tenant back into its number, or undefined. */
export function alertNumber (data: TenantData, id: string, count: number): number | undefined {
  const m = /^da([0-9a-f]{8})_(\d+)$/i.exec(id)
  if (m === null || m[1]!.toLowerCase() !== tenantHex(data.tenant)) return undefined
  const n = Number(m[2])
  return n >= 1 && n <= count ? n : undefined
}

/** Finds a machine by id or computer name (case-insensitive). */
export function findMachine (data: TenantData, idOrName: string): Machine | undefined {
  const k = idOrName.toLowerCase()
  return data.machines.find(m => m.id === k || m.computerDnsName.toLowerCase() === k)
}

const VENDORS = ['microsoft', 'google', 'mozilla', 'adobe', 'oracle']
const PRODUCTS = ['edge', 'chrome', 'firefox', 'acrobat_reader', 'java_runtime']

/**
 * One ~0.5 KB SoftwareInventoryByMachine record as JSON text (record `i` of the tenant's export),
 * produced with a template string because pages of hundreds of thousands are streamed.
 */
export function inventoryRecordJson (data: TenantData, i: number): string {
  const m = data.machines[i % data.machines.length]!
  const v = i % VENDORS.length
  const vendor = VENDORS[v]!
  const product = PRODUCTS[v]!
  const version = `${(i % 120) + 1}.0.${i % 9999}.${i % 97}`
  return `{"id":"${m.id}_${vendor}_${product}_${version}","deviceId":"${m.id}","rbacGroupName":"UnassignedGroup",` +
    `"deviceName":"${m.computerDnsName}","osPlatform":"${String(m.osPlatform)}","softwareVendor":"${vendor}",` +
    `"softwareName":"${product}","softwareVersion":"${version}","numberOfWeaknesses":${i % 7},` +
    `"endOfSupportStatus":"None","endOfSupportDate":null,"productCodeCpe":"cpe:2.3:a:${vendor}:${product}:${version}:*:*:*:*:*:*:*",` +
    `"diskPaths":["C:\\\\Program Files\\\\${vendor}\\\\${product}\\\\${product}.exe"],` +
    `"registryPaths":["HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Uninstall\\\\${product}"],` +
    `"softwareFirstSeenTimestamp":"${new Date(BASE_TIME + (i % 1000) * 1000).toISOString()}"}`
}
