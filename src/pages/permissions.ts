import { API_TITLES, type ApiKey } from '../graph/consent.js'
import { apiOfPermission } from '../graph/vocabulary.js'

/**
 * Application permissions said in words, for a customer's admin who is asked to consent, and the APIs
 * a tenant's permissions belong to (Defender for Endpoint, Microsoft Graph: each its own consent and token).
 */
const WORDS: Readonly<Record<string, string>> = {
  'alert.read.all': 'read every alert and incident-related alert detail',
  'alert.readwrite.all': 'read alerts and change them (status, assignment, classification, comments)',
  'machine.read.all': 'read the list of devices and their details',
  'machine.readwrite.all': 'read devices and change their tags and other properties',
  'machine.isolate': 'isolate a device from the network and release it',
  'machine.restrictexecution': 'restrict which programs may run on a device, and lift the restriction',
  'machine.scan': 'start an antivirus scan on a device',
  'machine.collectforensics': 'collect an investigation package from a device',
  'machine.stopandquarantine': 'stop a file from running and quarantine it',
  'machine.offboard': 'offboard a device from Defender',
  'machine.liveresponse': 'run live response commands on a device',
  'library.manage': 'manage the live response script library',
  'advancedquery.read.all': 'run advanced hunting queries',
  'ti.read.all': 'read all custom indicators (IOCs)',
  'ti.readwrite': 'read and write the indicators this app created',
  'ti.readwrite.all': 'read and write all indicators',
  'file.read.all': 'read file profiles',
  'url.read.all': 'read URL and domain profiles',
  'ip.read.all': 'read IP address profiles',
  'user.read.all': 'read user profiles',
  'software.read.all': 'read the software inventory',
  'vulnerability.read.all': 'read vulnerability information',
  'securityrecommendation.read.all': 'read security recommendations',
  'score.read.all': 'read exposure and secure scores',
  'remediationtasks.read.all': 'read remediation tasks',
  'securitybaselinesassessment.read.all': 'read security baseline assessments',
  'securityconfiguration.read.all': 'read security configuration',
  'securityconfiguration.readwrite.all': 'read and change security configuration',
  'event.write': 'write timeline events',
  'integrationconfiguration.readwrite': 'read and change integration settings',
  // Microsoft Graph security API
  'securityalert.read.all': 'read the security alerts of every Microsoft security product',
  'securityalert.readwrite.all': 'read security alerts and change them (status, assignment, classification, comments)',
  'securityincident.read.all': 'read security incidents and their alerts',
  'securityincident.readwrite.all': 'read security incidents and change them (status, assignment, tags, comments)',
  'threathunting.read.all': 'run advanced hunting queries across Microsoft 365 Defender data',
  'securityevents.read.all': 'read security events and secure scores (legacy security API)',
  'securityevents.readwrite.all': 'read security events and update them (legacy security API)',
  'threatintelligence.read.all': 'read Microsoft threat intelligence (articles, hosts, indicators)',
  'securityidentitieshealth.read.all': 'read Defender for Identity health issues',
  'securityidentitieshealth.readwrite.all': 'read and update Defender for Identity health issues'
}

/** One permission as a page shows it: its name, what it allows in words, and whether it changes things. */
export interface PermissionWords {
  readonly name: string
  readonly words: string
  readonly changes: boolean
}

/** An API the gateway calls for a tenant, with the permissions configured for it. */
export interface ApiPermissions {
  readonly key: ApiKey
  readonly api: string
  readonly permissions: readonly PermissionWords[]
}

/** A permission in words (an unknown one, e.g. from extraRoutes, is shown by name). */
export function describe (permission: string): PermissionWords {
  const words = WORDS[permission.toLowerCase()] ?? 'a permission configured by your provider'
  return { name: permission, words, changes: /write|isolate|restrict|scan|collect|stop|offboard|liveresponse|manage/i.test(permission) }
}

/** The APIs a tenant's configured permissions belong to, Defender first; an API without any is left out. */
export function tenantApis (permissions: Iterable<string>): ApiPermissions[] {
  const list = [...permissions].sort()
  return (['defender', 'graph'] as const)
    .map((key) => ({ key, api: API_TITLES[key], permissions: list.filter((p) => apiOfPermission(p) === key).map(describe) }))
    .filter((a) => a.permissions.length > 0)
}

/**
 * The APIs whose tokens matter for a tenant: those it lists permissions of, else Defender (whose token
 * the gateway acquires for every tenant, so its state is still worth showing).
 */
export function tenantApiKeys (permissions: Iterable<string>): ApiKey[] {
  const keys = tenantApis(permissions).map((a) => a.key)
  return keys.length === 0 ? ['defender'] : keys
}
