// Microsoft Graph security API route catalogue (the Defender XDR part of Graph), transcribed from
// /work/shared/reference/graph-security.md §1 (routes and application permissions, from
// microsoftgraph/microsoft-graph-docs-contrib and microsoft-graph-devx-content permissions.json) and §3
// (throttling). Every route carries its source as a trailing comment; UNCONFIRMED marks an inference.
// Pure data: matching, policy and forwarding are shared with the Defender catalogue.
import type { RouteSpec } from '../policy/catalogue-data.js'

/** Application permissions (app-role values) of Microsoft Graph the security routes use, canonical casing. */
export const GRAPH_PERMISSIONS = [
  'SecurityAlert.Read.All',
  'SecurityAlert.ReadWrite.All',
  'SecurityIncident.Read.All',
  'SecurityIncident.ReadWrite.All',
  'ThreatHunting.Read.All',
  'SecurityEvents.Read.All',
  'SecurityEvents.ReadWrite.All',
  'ThreatIntelligence.Read.All',
  'SecurityIdentitiesHealth.Read.All',
  'SecurityIdentitiesHealth.ReadWrite.All'
] as const

/** One application permission of Microsoft Graph known to the catalogue. */
export type GraphPermission = typeof GRAPH_PERMISSIONS[number]

/**
 * Graph's security throttling, per app per tenant ("Security detections and incidents service limits",
 * [gd: inc/throttling-security-detections-incidents]; hunting: [gd: v1/res/security-api-overview]).
 * Names start with `graph` so they never share a budget with a Defender class.
 */
export const GRAPH_RATE_CLASSES = {
  // "Any operation on alert ... 150 requests per minute"; that it covers alerts_v2 is UNCONFIRMED
  graphAlerts: { perMinute: 150, perHour: null },
  // incidents, threat intelligence, identities: no published row; held like alerts (UNCONFIRMED)
  graphSecurity: { perMinute: 150, perHour: null },
  // "secureScore ... 150 requests per minute"; its 10,000 per 10 minutes is looser; 4 concurrent not counted here
  graphSecureScore: { perMinute: 150, perHour: null },
  // runHuntingQuery: "up to at least 45 calls per minute per tenant"; no hourly figure is published
  graphHunting: { perMinute: 45, perHour: null }
} as const satisfies Record<string, { perMinute: number | null, perHour: number | null }>

/** Name of a Graph throttling class. */
export type GraphRateClass = keyof typeof GRAPH_RATE_CLASSES

type GraphRoute = RouteSpec<GraphPermission, GraphRateClass>

const ALERT_READ: GraphPermission[] = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All']
const INCIDENT_READ: GraphPermission[] = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All']
const EVENTS_READ: GraphPermission[] = ['SecurityEvents.Read.All', 'SecurityEvents.ReadWrite.All']
const TI: GraphPermission[] = ['ThreatIntelligence.Read.All']
const HEALTH_READ: GraphPermission[] = ['SecurityIdentitiesHealth.Read.All', 'SecurityIdentitiesHealth.ReadWrite.All']

const read = (name: string, template: string, permissions: GraphPermission[], rateClass: GraphRateClass): GraphRoute =>
  ({ name, method: 'GET', template, permissions, rateClass, writes: false, api: 'graph' })
const write = (name: string, method: 'PATCH' | 'POST', template: string, permissions: GraphPermission[], rateClass: GraphRateClass): GraphRoute =>
  ({ name, method, template, permissions, rateClass, writes: true, api: 'graph' })

/** Host-relative paths after the version segment (`/v1.0` or `/beta`), which `{version}` stands for. */
const TI_HOST_PARTS = ['reputation', 'passiveDns', 'passiveDnsReverse', 'components', 'cookies', 'trackers', 'hostPairs', 'childHostPairs', 'parentHostPairs']

/** The Graph security routes the gateway forwards; anything else under Graph is refused. */
export const GRAPH_ROUTES: readonly GraphRoute[] = [
  // §1.1 alerts_v2: [gd: v1/api/security-list-alerts_v2], [gd: v1/inc/permissions/security-list-alerts_v2-permissions]
  read('graph.alerts.list', '/{version}/security/alerts_v2', ALERT_READ, 'graphAlerts'),
  // [gd: v1/api/security-alert-get], [perm.json]; least/higher table inferred (UNCONFIRMED)
  read('graph.alerts.get', '/{version}/security/alerts_v2/{id}', ALERT_READ, 'graphAlerts'),
  // [gd: v1/api/security-alert-update], [gd: v1/inc/permissions/security-alert-update-permissions]
  write('graph.alerts.update', 'PATCH', '/{version}/security/alerts_v2/{id}', ['SecurityAlert.ReadWrite.All'], 'graphAlerts'),
  // [gd: v1/api/security-alert-post-comments], [perm.json]
  write('graph.alerts.comment', 'POST', '/{version}/security/alerts_v2/{id}/comments', ['SecurityAlert.ReadWrite.All'], 'graphAlerts'),
  // incidents: [gd: v1/api/security-list-incidents], [perm.json]
  read('graph.incidents.list', '/{version}/security/incidents', INCIDENT_READ, 'graphSecurity'),
  // [gd: v1/api/security-incident-get], [perm.json]; least/higher table inferred (UNCONFIRMED)
  read('graph.incidents.get', '/{version}/security/incidents/{id}', INCIDENT_READ, 'graphSecurity'),
  // [gd: v1/api/security-incident-update], [perm.json]
  write('graph.incidents.update', 'PATCH', '/{version}/security/incidents/{id}', ['SecurityIncident.ReadWrite.All'], 'graphSecurity'),
  // [gd: v1/api/security-incident-post-comments], [perm.json]
  write('graph.incidents.comment', 'POST', '/{version}/security/incidents/{id}/comments', ['SecurityIncident.ReadWrite.All'], 'graphSecurity'),
  // navigation in [csdl: v1.0-Prod]; not in [perm.json]: the incident permission is presumed (UNCONFIRMED)
  read('graph.incidents.alerts', '/{version}/security/incidents/{id}/alerts', INCIDENT_READ, 'graphSecurity'),
  // §1.2 hunting: [gd: v1/api/security-security-runhuntingquery], [perm.json]; a POST that only reads
  { name: 'graph.hunting.run', method: 'POST', template: '/{version}/security/runHuntingQuery', permissions: ['ThreatHunting.Read.All'], rateClass: 'graphHunting', writes: false, api: 'graph' },
  // §1.3 Secure Score: [gd: v1/api/security-list-securescores], [gd: v1/api/securescore-get], [perm.json]
  read('graph.secureScores.list', '/{version}/security/secureScores', EVENTS_READ, 'graphSecureScore'),
  read('graph.secureScores.get', '/{version}/security/secureScores/{id}', EVENTS_READ, 'graphSecureScore'),
  // [gd: v1/api/security-list-securescorecontrolprofiles], [perm.json]
  read('graph.secureScoreControlProfiles.list', '/{version}/security/secureScoreControlProfiles', EVENTS_READ, 'graphSecureScore'),
  read('graph.secureScoreControlProfiles.get', '/{version}/security/secureScoreControlProfiles/{id}', EVENTS_READ, 'graphSecureScore'),
  // [gd: v1/api/securescorecontrolprofile-update], [perm.json]
  write('graph.secureScoreControlProfiles.update', 'PATCH', '/{version}/security/secureScoreControlProfiles/{id}', ['SecurityEvents.ReadWrite.All'], 'graphSecureScore'),
  // §1.4 threat intelligence, read only: [perm.json], [gd: v1/api/security-threatintelligence-list-articles]
  read('graph.ti.articles.list', '/{version}/security/threatIntelligence/articles', TI, 'graphSecurity'),
  read('graph.ti.articles.get', '/{version}/security/threatIntelligence/articles/{id}', TI, 'graphSecurity'),
  read('graph.ti.articles.indicators', '/{version}/security/threatIntelligence/articles/{id}/indicators', TI, 'graphSecurity'),
  // [gd: v1/api/security-threatintelligence-list-intelprofiles], [perm.json]
  read('graph.ti.intelProfiles.list', '/{version}/security/threatIntelligence/intelProfiles', TI, 'graphSecurity'),
  read('graph.ti.intelProfiles.get', '/{version}/security/threatIntelligence/intelProfiles/{id}', TI, 'graphSecurity'),
  read('graph.ti.intelProfiles.indicators', '/{version}/security/threatIntelligence/intelProfiles/{id}/indicators', TI, 'graphSecurity'),
  // hosts: get by id only [gd: v1/api/security-host-get]; parts: [perm.json]
  read('graph.ti.hosts.get', '/{version}/security/threatIntelligence/hosts/{id}', TI, 'graphSecurity'),
  ...TI_HOST_PARTS.map((part) => read(`graph.ti.hosts.${part}`, `/{version}/security/threatIntelligence/hosts/{id}/${part}`, TI, 'graphSecurity')),
  // [gd: v1/api/security-vulnerability-get], [perm.json]
  read('graph.ti.vulnerabilities.get', '/{version}/security/threatIntelligence/vulnerabilities/{id}', TI, 'graphSecurity'),
  read('graph.ti.vulnerabilities.components', '/{version}/security/threatIntelligence/vulnerabilities/{id}/components', TI, 'graphSecurity'),
  // [gd: v1/api/security-threatintelligence-list-whoisrecords]; not in [perm.json]: permission presumed (UNCONFIRMED)
  read('graph.ti.whoisRecords.list', '/{version}/security/threatIntelligence/whoisRecords', TI, 'graphSecurity'),
  // [gd: v1/res/security-threatintelligence]: list supported
  read('graph.ti.sslCertificates.list', '/{version}/security/threatIntelligence/sslCertificates', TI, 'graphSecurity'),
  // §1.5 Defender for Identity health: [gd: v1/api/security-identitycontainer-list-healthissues], [perm.json]
  read('graph.identities.healthIssues.list', '/{version}/security/identities/healthIssues', HEALTH_READ, 'graphSecurity'),
  read('graph.identities.healthIssues.get', '/{version}/security/identities/healthIssues/{id}', HEALTH_READ, 'graphSecurity'),
  // [gd: v1/api/security-healthissue-update], [perm.json]
  write('graph.identities.healthIssues.update', 'PATCH', '/{version}/security/identities/healthIssues/{id}', ['SecurityIdentitiesHealth.ReadWrite.All'], 'graphSecurity')
]
