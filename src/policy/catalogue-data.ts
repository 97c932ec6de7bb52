// Microsoft Defender for Endpoint route catalogue, transcribed from
// /work/shared/reference/defender-api.md §2.4 (permissions), §3 (routes) and §4 (throttling).
// Pure data: the matcher and policy code live elsewhere.

/** Application permissions (app-role values) of the WindowsDefenderATP resource app, canonical casing. */
export const PERMISSIONS = [
  'Alert.Read.All',
  'Alert.ReadWrite.All',
  'Machine.Read.All',
  'Machine.ReadWrite.All',
  'Machine.Isolate',
  'Machine.RestrictExecution',
  'Machine.Scan',
  'Machine.CollectForensics',
  'Machine.StopAndQuarantine',
  'Machine.Offboard',
  'Machine.LiveResponse',
  'Library.Manage',
  'AdvancedQuery.Read.All',
  'Ti.Read.All',
  'Ti.ReadWrite',
  'Ti.ReadWrite.All',
  'File.Read.All',
  'Url.Read.All', // docs spell it URL.Read.All; the app-role value is Url.Read.All
  'Ip.Read.All',
  'User.Read.All',
  'Software.Read.All',
  'Vulnerability.Read.All',
  'SecurityRecommendation.Read.All',
  'Score.Read.All',
  'RemediationTasks.Read.All',
  'SecurityBaselinesAssessment.Read.All',
  'SecurityConfiguration.Read.All', // no documented route uses it
  'SecurityConfiguration.ReadWrite.All', // no documented route uses it
  'Event.Write', // no documented route uses it
  'IntegrationConfiguration.ReadWrite' // no documented route uses it
] as const

/** One application permission of the WindowsDefenderATP app, so route data is checked against the known roles. */
export type Permission = typeof PERMISSIONS[number]

/** Defender throttling classes (§4); limits are per (app, tenant). null = no documented limit for that window. */
export const RATE_CLASSES = {
  default: { perMinute: 100, perHour: 1500 },
  machineVulnerabilities: { perMinute: 50, perHour: 1500 },
  // plus 10 min of query CPU per hour and 3 h per day, 200 s per query (enforced by Defender, not countable here)
  advancedQuery: { perMinute: 45, perHour: 1500 },
  exportByMachine: { perMinute: 30, perHour: 1000 },
  indicatorImport: { perMinute: 30, perHour: null },
  indicatorBatchDelete: { perMinute: 30, perHour: 1500 },
  alertCreateByReference: { perMinute: 15, perHour: null },
  alertBatchUpdate: { perMinute: 10, perHour: 500 },
  // plus at most 25 concurrent live-response sessions per tenant (429 beyond that)
  liveResponse: { perMinute: 10, perHour: null },
  exportFiles: { perMinute: 5, perHour: 20 },
  packageUri: { perMinute: 2, perHour: 120 },
  startInvestigation: { perMinute: null, perHour: 50 },
  unlimited: { perMinute: null, perHour: null }
} as const satisfies Record<string, { perMinute: number | null, perHour: number | null }>

/** Name of a throttling class, so each route points at exactly one documented budget. */
export type RateClass = keyof typeof RATE_CLASSES

/** HTTP methods used by the documented Defender routes. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE'

/** One allowlisted route (Defender's, or Graph's with `api: 'graph'`): how to match it, what it needs, how it is throttled. */
export interface RouteSpec<P extends string = string, R extends string = string> {
  /** stable, unique, low-cardinality name used in metrics and logs, e.g. 'alerts.list', 'alerts.get', 'alerts.update', 'machines.isolate', 'machineActions.getPackageUri' */
  readonly name: string
  readonly method: HttpMethod
  /** path template relative to the host, always starting with '/api/'; variables as {name}; an OData function segment keeps its literal name with its argument list as one variable, e.g. '/api/machines/findbyip({args})', '/api/machines/find({args})', '/api/machineactions/{id}/GetLiveResponseResultDownloadLink({args})'. No query string in the template. Use the documented casing of literal segments (matching will be case-insensitive). */
  readonly template: string
  /** any ONE of these suffices */
  readonly permissions: readonly P[]
  readonly rateClass: R
  /** true when the route changes state in Defender (isolate, tags, PATCH, DELETE, uploads, indicator writes, live response, alert updates, investigations, scan-definition writes...); false for reads INCLUDING the POSTs that only read (advancedqueries/run, GetScanHistoryByScanDefinitionId, GetScanHistoryBySessionId) */
  readonly writes: boolean
  /** the Microsoft Graph security API (src/graph); absent for the Defender for Endpoint API */
  readonly api?: 'graph'
}

/** Complete documented MDE route table (§3.1–3.12), one entry per (method, template); the allowlist and permission map derive from it. */
export const ROUTES: ReadonlyArray<RouteSpec<Permission, RateClass>> = [
  // 3.1 Alerts
  { name: 'alerts.list', method: 'GET', template: '/api/alerts', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'alerts.get', method: 'GET', template: '/api/alerts/{id}', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'alerts.update', method: 'PATCH', template: '/api/alerts/{id}', permissions: ['Alert.ReadWrite.All'], rateClass: 'default', writes: true }, // doc typo 'Alerts.ReadWrite.All'
  { name: 'alerts.batchUpdate', method: 'POST', template: '/api/alerts/batchUpdate', permissions: ['Alert.ReadWrite.All'], rateClass: 'alertBatchUpdate', writes: true },
  { name: 'alerts.createByReference', method: 'POST', template: '/api/alerts/CreateAlertByReference', permissions: ['Alert.ReadWrite.All'], rateClass: 'alertCreateByReference', writes: true },
  { name: 'alerts.domains', method: 'GET', template: '/api/alerts/{id}/domains', permissions: ['Url.Read.All'], rateClass: 'default', writes: false }, // docs: URL.Read.All
  { name: 'alerts.files', method: 'GET', template: '/api/alerts/{id}/files', permissions: ['File.Read.All'], rateClass: 'default', writes: false },
  { name: 'alerts.ips', method: 'GET', template: '/api/alerts/{id}/ips', permissions: ['Ip.Read.All'], rateClass: 'default', writes: false },
  { name: 'alerts.machine', method: 'GET', template: '/api/alerts/{id}/machine', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'alerts.user', method: 'GET', template: '/api/alerts/{id}/user', permissions: ['User.Read.All'], rateClass: 'default', writes: false },

  // 3.2 Machines (devices)
  { name: 'machines.list', method: 'GET', template: '/api/machines', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'machines.get', method: 'GET', template: '/api/machines/{id}', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false }, // {id} may be a computer name
  { name: 'machines.update', method: 'PATCH', template: '/api/machines/{id}', permissions: ['Machine.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'machines.logonUsers', method: 'GET', template: '/api/machines/{id}/logonusers', permissions: ['User.Read.All'], rateClass: 'default', writes: false },
  { name: 'machines.alerts', method: 'GET', template: '/api/machines/{id}/alerts', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false }, // '/alerts/$count' is handled by the matcher, no separate template
  { name: 'machines.software', method: 'GET', template: '/api/machines/{id}/software', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'machines.vulnerabilities', method: 'GET', template: '/api/machines/{id}/vulnerabilities', permissions: ['Vulnerability.Read.All'], rateClass: 'machineVulnerabilities', writes: false },
  { name: 'machines.recommendations', method: 'GET', template: '/api/machines/{id}/recommendations', permissions: ['SecurityRecommendation.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'machines.missingKbs', method: 'GET', template: '/api/machines/{id}/getmissingkbs', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'machines.tags', method: 'POST', template: '/api/machines/{id}/tags', permissions: ['Machine.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'machines.tagsMultiple', method: 'POST', template: '/api/machines/AddOrRemoveTagForMultipleMachines', permissions: ['Machine.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'machines.setDeviceValue', method: 'POST', template: '/api/machines/{id}/setDeviceValue', permissions: ['Machine.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'machines.findByIp', method: 'GET', template: '/api/machines/findbyip({args})', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'machines.find', method: 'GET', template: '/api/machines/find({args})', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'unlimited', writes: false }, // page states no limit
  { name: 'machines.findByTag', method: 'GET', template: '/api/machines/findbytag', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false }, // tag and useStartsWithFilter are query options
  { name: 'machines.startInvestigation', method: 'POST', template: '/api/machines/{id}/startInvestigation', permissions: ['Alert.ReadWrite.All'], rateClass: 'startInvestigation', writes: true }, // also listed in 3.8

  // 3.3 Machine actions (response actions)
  { name: 'machineActions.list', method: 'GET', template: '/api/machineactions', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'machineActions.get', method: 'GET', template: '/api/machineactions/{id}', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'machines.isolate', method: 'POST', template: '/api/machines/{id}/isolate', permissions: ['Machine.Isolate'], rateClass: 'default', writes: true },
  { name: 'machines.unisolate', method: 'POST', template: '/api/machines/{id}/unisolate', permissions: ['Machine.Isolate'], rateClass: 'default', writes: true },
  { name: 'machines.restrictCodeExecution', method: 'POST', template: '/api/machines/{id}/restrictCodeExecution', permissions: ['Machine.RestrictExecution'], rateClass: 'default', writes: true },
  { name: 'machines.unrestrictCodeExecution', method: 'POST', template: '/api/machines/{id}/unrestrictCodeExecution', permissions: ['Machine.RestrictExecution'], rateClass: 'default', writes: true },
  { name: 'machines.runAntiVirusScan', method: 'POST', template: '/api/machines/{id}/runAntiVirusScan', permissions: ['Machine.Scan'], rateClass: 'default', writes: true },
  { name: 'machines.collectInvestigationPackage', method: 'POST', template: '/api/machines/{id}/collectInvestigationPackage', permissions: ['Machine.CollectForensics'], rateClass: 'default', writes: true },
  { name: 'machineActions.getPackageUri', method: 'GET', template: '/api/machineactions/{id}/getPackageUri', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'packageUri', writes: false }, // app permissions as documented (delegated: Machine.CollectForensics); example casing GetPackageUri
  { name: 'machines.stopAndQuarantineFile', method: 'POST', template: '/api/machines/{id}/StopAndQuarantineFile', permissions: ['Machine.StopAndQuarantine'], rateClass: 'default', writes: true }, // doc also lists Machine.Read.All/ReadWrite.All: ignored, a read permission must not unlock a write
  { name: 'machines.offboard', method: 'POST', template: '/api/machines/{id}/offboard', permissions: ['Machine.Offboard'], rateClass: 'default', writes: true },
  { name: 'machines.runLiveResponse', method: 'POST', template: '/api/machines/{id}/runliveresponse', permissions: ['Machine.LiveResponse'], rateClass: 'liveResponse', writes: true }, // doc template shows '/API/'
  { name: 'machineActions.getLiveResponseResultDownloadLink', method: 'GET', template: '/api/machineactions/{id}/GetLiveResponseResultDownloadLink({args})', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false }, // app permissions as documented (delegated: Machine.LiveResponse)
  { name: 'machineActions.cancel', method: 'POST', template: '/api/machineactions/{id}/cancel', permissions: ['Machine.CollectForensics', 'Machine.Isolate', 'Machine.RestrictExecution', 'Machine.Scan', 'Machine.Offboard', 'Machine.StopAndQuarantine', 'Machine.LiveResponse'], rateClass: 'default', writes: true },

  // 3.4 Live response library
  { name: 'libraryFiles.list', method: 'GET', template: '/api/libraryfiles', permissions: ['Library.Manage'], rateClass: 'default', writes: false },
  { name: 'libraryFiles.upload', method: 'POST', template: '/api/libraryfiles', permissions: ['Library.Manage'], rateClass: 'default', writes: true }, // multipart, max 20 MB
  { name: 'libraryFiles.delete', method: 'DELETE', template: '/api/libraryfiles/{fileName}', permissions: ['Library.Manage'], rateClass: 'default', writes: true },

  // 3.5 Advanced hunting (MDE flavour)
  { name: 'advancedQueries.run', method: 'POST', template: '/api/advancedqueries/run', permissions: ['AdvancedQuery.Read.All'], rateClass: 'advancedQuery', writes: false }, // POST that only reads

  // 3.6 Indicators (custom IOCs)
  { name: 'indicators.list', method: 'GET', template: '/api/indicators', permissions: ['Ti.ReadWrite', 'Ti.ReadWrite.All'], rateClass: 'default', writes: false }, // no read-only permission documented; Ti.Read.All acceptance UNCONFIRMED, so not listed
  { name: 'indicators.submit', method: 'POST', template: '/api/indicators', permissions: ['Ti.ReadWrite', 'Ti.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'indicators.import', method: 'POST', template: '/api/indicators/import', permissions: ['Ti.ReadWrite', 'Ti.ReadWrite.All'], rateClass: 'indicatorImport', writes: true },
  { name: 'indicators.delete', method: 'DELETE', template: '/api/indicators/{id}', permissions: ['Ti.ReadWrite', 'Ti.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'indicators.batchDelete', method: 'POST', template: '/api/indicators/BatchDelete', permissions: ['Ti.ReadWrite', 'Ti.ReadWrite.All'], rateClass: 'indicatorBatchDelete', writes: true },

  // 3.7 Files, domains, IPs, users
  { name: 'files.get', method: 'GET', template: '/api/files/{id}', permissions: ['File.Read.All'], rateClass: 'default', writes: false }, // {id} is a SHA-1 or SHA-256
  { name: 'files.stats', method: 'GET', template: '/api/files/{id}/stats', permissions: ['File.Read.All'], rateClass: 'default', writes: false }, // ?lookBackHours= is a query option
  { name: 'files.alerts', method: 'GET', template: '/api/files/{id}/alerts', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false }, // SHA-1 only
  { name: 'files.machines', method: 'GET', template: '/api/files/{id}/machines', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false }, // SHA-1 only
  { name: 'domains.alerts', method: 'GET', template: '/api/domains/{domain}/alerts', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false }, // Nov 2025 page lists only RW; older versions list both and RW is still accepted
  { name: 'domains.machines', method: 'GET', template: '/api/domains/{domain}/machines', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'domains.stats', method: 'GET', template: '/api/domains/{domain}/stats', permissions: ['Url.Read.All'], rateClass: 'default', writes: false }, // docs: URL.Read.All; ?lookBackHours= is a query option
  { name: 'ips.alerts', method: 'GET', template: '/api/ips/{ip}/alerts', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'ips.stats', method: 'GET', template: '/api/ips/{ip}/stats', permissions: ['Ip.Read.All'], rateClass: 'default', writes: false }, // ?lookBackHours= is a query option
  { name: 'users.alerts', method: 'GET', template: '/api/users/{userName}/alerts', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false }, // bare user name, not the UPN
  { name: 'users.machines', method: 'GET', template: '/api/users/{userName}/machines', permissions: ['Machine.Read.All', 'Machine.ReadWrite.All'], rateClass: 'default', writes: false }, // Nov 2025 page lists only RW; older versions list both and RW is still accepted

  // 3.8 Automated investigations (startInvestigation is listed once, under 3.2)
  { name: 'investigations.list', method: 'GET', template: '/api/investigations', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false },
  { name: 'investigations.get', method: 'GET', template: '/api/investigations/{id}', permissions: ['Alert.Read.All', 'Alert.ReadWrite.All'], rateClass: 'default', writes: false }, // investigation ID or triggering alert ID

  // 3.9 Vulnerability management: software, vulnerabilities, recommendations, score, remediation (no stated limits)
  { name: 'software.list', method: 'GET', template: '/api/Software', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'software.get', method: 'GET', template: '/api/Software/{id}', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false }, // id format vendor-_-product
  { name: 'software.distributions', method: 'GET', template: '/api/Software/{id}/distributions', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'software.machineReferences', method: 'GET', template: '/api/Software/{id}/machineReferences', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'software.vulnerabilities', method: 'GET', template: '/api/Software/{id}/vulnerabilities', permissions: ['Vulnerability.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'software.missingKbs', method: 'GET', template: '/api/Software/{id}/getmissingkbs', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'vulnerabilities.list', method: 'GET', template: '/api/vulnerabilities', permissions: ['Vulnerability.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'vulnerabilities.get', method: 'GET', template: '/api/vulnerabilities/{cveId}', permissions: ['Vulnerability.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'vulnerabilities.machineReferences', method: 'GET', template: '/api/vulnerabilities/{cveId}/machineReferences', permissions: ['Vulnerability.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'vulnerabilities.machinesVulnerabilities', method: 'GET', template: '/api/vulnerabilities/machinesVulnerabilities', permissions: ['Vulnerability.Read.All'], rateClass: 'unlimited', writes: false }, // literal segment; must win over {cveId}
  { name: 'recommendations.list', method: 'GET', template: '/api/recommendations', permissions: ['SecurityRecommendation.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'recommendations.get', method: 'GET', template: '/api/recommendations/{id}', permissions: ['SecurityRecommendation.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'recommendations.software', method: 'GET', template: '/api/recommendations/{id}/software', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false }, // app permission per page; delegated listed as SecurityRecommendation.Read (inconsistent)
  { name: 'recommendations.machineReferences', method: 'GET', template: '/api/recommendations/{id}/machineReferences', permissions: ['SecurityRecommendation.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'recommendations.vulnerabilities', method: 'GET', template: '/api/recommendations/{id}/vulnerabilities', permissions: ['Vulnerability.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'exposureScore.get', method: 'GET', template: '/api/exposureScore', permissions: ['Score.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'exposureScore.byMachineGroups', method: 'GET', template: '/api/exposureScore/ByMachineGroups', permissions: ['Score.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'configurationScore.get', method: 'GET', template: '/api/configurationScore', permissions: ['Score.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'remediationTasks.list', method: 'GET', template: '/api/remediationTasks', permissions: ['RemediationTasks.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'remediationTasks.get', method: 'GET', template: '/api/remediationTasks/{id}', permissions: ['RemediationTasks.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'remediationTasks.machineReferences', method: 'GET', template: '/api/remediationTasks/{id}/machineReferences', permissions: ['RemediationTasks.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'browserExtensions.permissionsInfo', method: 'GET', template: '/api/browserextensions/permissionsinfo', permissions: ['Software.Read.All'], rateClass: 'unlimited', writes: false },
  { name: 'baselineProfiles.list', method: 'GET', template: '/api/baselineProfiles', permissions: ['SecurityBaselinesAssessment.Read.All'], rateClass: 'unlimited', writes: false }, // permission not stated on the page; presumed (UNCONFIRMED)
  { name: 'baselineConfigurations.list', method: 'GET', template: '/api/baselineConfigurations', permissions: ['SecurityBaselinesAssessment.Read.All'], rateClass: 'unlimited', writes: false }, // permission not stated on the page; presumed (UNCONFIRMED)

  // 3.10 Export assessment APIs (ByMachine = JSON pages, 30/min 1000/h; *Export = via files, 5/min 20/h)
  { name: 'exports.secureConfigurationsByMachine', method: 'GET', template: '/api/machines/SecureConfigurationsAssessmentByMachine', permissions: ['Vulnerability.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.secureConfigurationsFiles', method: 'GET', template: '/api/machines/SecureConfigurationsAssessmentExport', permissions: ['Vulnerability.Read.All'], rateClass: 'exportFiles', writes: false },
  { name: 'exports.softwareInventoryByMachine', method: 'GET', template: '/api/machines/SoftwareInventoryByMachine', permissions: ['Software.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.softwareInventoryFiles', method: 'GET', template: '/api/machines/SoftwareInventoryExport', permissions: ['Software.Read.All'], rateClass: 'exportFiles', writes: false },
  { name: 'exports.softwareInventoryNoProductCodeByMachine', method: 'GET', template: '/api/machines/SoftwareInventoryNoProductCodeByMachine', permissions: ['Software.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.softwareInventoryNonCpeFiles', method: 'GET', template: '/api/machines/SoftwareInventoryNonCpeExport', permissions: ['Software.Read.All'], rateClass: 'exportFiles', writes: false },
  { name: 'exports.softwareVulnerabilitiesByMachine', method: 'GET', template: '/api/machines/SoftwareVulnerabilitiesByMachine', permissions: ['Vulnerability.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.softwareVulnerabilitiesFiles', method: 'GET', template: '/api/machines/SoftwareVulnerabilitiesExport', permissions: ['Vulnerability.Read.All'], rateClass: 'exportFiles', writes: false },
  { name: 'exports.softwareVulnerabilityChangesByMachine', method: 'GET', template: '/api/machines/SoftwareVulnerabilityChangesByMachine', permissions: ['Vulnerability.Read.All'], rateClass: 'exportByMachine', writes: false }, // delta; sinceTime required (query option)
  { name: 'exports.browserExtensionsByMachine', method: 'GET', template: '/api/Machines/BrowserExtensionsInventoryByMachine', permissions: ['Software.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.browserExtensionsFiles', method: 'GET', template: '/api/machines/browserextensionsinventoryExport', permissions: ['Software.Read.All'], rateClass: 'exportFiles', writes: false },
  { name: 'exports.certificateByMachine', method: 'GET', template: '/api/machines/certificateAssessmentByMachine', permissions: ['Vulnerability.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.certificateFiles', method: 'GET', template: '/api/machines/certificateAssessmentExport', permissions: ['Vulnerability.Read.All'], rateClass: 'exportFiles', writes: false },
  { name: 'exports.hardwareFirmwareByMachine', method: 'GET', template: '/api/machines/HardwareFirmwareInventoryByMachine', permissions: ['Software.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.hardwareFirmwareFiles', method: 'GET', template: '/api/machines/HardwareFirmwareInventoryExport', permissions: ['Software.Read.All'], rateClass: 'exportFiles', writes: false },
  { name: 'exports.baselineComplianceByMachine', method: 'GET', template: '/api/machines/baselineComplianceAssessmentByMachine', permissions: ['SecurityBaselinesAssessment.Read.All'], rateClass: 'exportByMachine', writes: false },
  { name: 'exports.baselineComplianceFiles', method: 'GET', template: '/api/machines/BaselineComplianceAssessmentExport', permissions: ['SecurityBaselinesAssessment.Read.All'], rateClass: 'exportFiles', writes: false }, // permission not repeated on the page; presumed (UNCONFIRMED)
  { name: 'exports.infoGatheringFiles', method: 'GET', template: '/api/Machines/InfoGatheringExport', permissions: ['Vulnerability.Read.All'], rateClass: 'exportFiles', writes: false }, // same path is the 3.11 AV-health via-files export, which states 30/min 1000/h; the stricter via-files class is kept

  // 3.11 Device (antivirus) health (InfoGatheringExport is listed once, under 3.10)
  { name: 'deviceAvInfo.list', method: 'GET', template: '/api/deviceavinfo', permissions: ['Machine.Read.All'], rateClass: 'exportByMachine', writes: false }, // only Machine.Read.All documented; old name /api/public/avdeviceshealth not included (UNCONFIRMED)

  // 3.12 Authenticated scans (vulnerability management)
  { name: 'scanDefinitions.list', method: 'GET', template: '/api/DeviceAuthenticatedScanDefinitions', permissions: ['Machine.Read.All'], rateClass: 'default', writes: false },
  { name: 'scanDefinitions.create', method: 'POST', template: '/api/DeviceAuthenticatedScanDefinitions', permissions: ['Machine.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'scanDefinitions.update', method: 'PATCH', template: '/api/DeviceAuthenticatedScanDefinitions/{id}', permissions: ['Machine.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'scanDefinitions.batchDelete', method: 'POST', template: '/api/DeviceAuthenticatedScanDefinitions/BatchDelete', permissions: ['Machine.ReadWrite.All'], rateClass: 'default', writes: true },
  { name: 'scanDefinitions.historyByDefinition', method: 'POST', template: '/api/DeviceAuthenticatedScanDefinitions/GetScanHistoryByScanDefinitionId', permissions: ['Machine.Read.All'], rateClass: 'default', writes: false }, // POST that only reads
  { name: 'scanDefinitions.historyBySession', method: 'POST', template: '/api/DeviceAuthenticatedScanDefinitions/GetScanHistoryBySessionId', permissions: ['Machine.Read.All'], rateClass: 'default', writes: false }, // POST that only reads
  { name: 'scanAgents.list', method: 'GET', template: '/api/DeviceAuthenticatedScanAgents', permissions: ['Machine.Read.All'], rateClass: 'default', writes: false },
  { name: 'scanAgents.get', method: 'GET', template: '/api/DeviceAuthenticatedScanAgents/{id}', permissions: ['Machine.Read.All'], rateClass: 'default', writes: false },
  // §3.13: the OData schema document (read by 3P clients); it holds no tenant data, so any permission opens it.
  { name: 'metadata.get', method: 'GET', template: '/api/$metadata', permissions: PERMISSIONS, rateClass: 'default', writes: false }
]
