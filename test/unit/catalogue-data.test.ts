import t from 'tap'
import { PERMISSIONS, RATE_CLASSES, ROUTES } from '../../src/policy/catalogue-data.js'
import type { HttpMethod, Permission, RateClass, RouteSpec } from '../../src/policy/catalogue-data.js'

const READ_ONLY_POSTS = [
  '/api/advancedqueries/run',
  '/api/DeviceAuthenticatedScanDefinitions/GetScanHistoryByScanDefinitionId',
  '/api/DeviceAuthenticatedScanDefinitions/GetScanHistoryBySessionId'
]

function find (method: HttpMethod, template: string): RouteSpec[] {
  const lower = template.toLowerCase()
  return ROUTES.filter(r => r.method === method && r.template.toLowerCase() === lower)
}

function balanced (s: string): boolean {
  const stack: string[] = []
  const pairs: Record<string, string> = { '}': '{', ')': '(' }
  for (const ch of s) {
    if (ch === '{' || ch === '(') stack.push(ch)
    else if (ch === '}' || ch === ')') {
      if (stack.pop() !== pairs[ch]) return false
    }
  }
  return stack.length === 0
}

t.test('route names are unique', async t => {
  const seen = new Set<string>()
  for (const r of ROUTES) {
    t.notOk(seen.has(r.name), `duplicate name ${r.name}`)
    seen.add(r.name)
  }
})

t.test('(method, lowercased template) is unique', async t => {
  const seen = new Set<string>()
  for (const r of ROUTES) {
    const key = `${r.method} ${r.template.toLowerCase()}`
    t.notOk(seen.has(key), `duplicate route ${key}`)
    seen.add(key)
  }
})

t.test('templates are well formed', async t => {
  for (const r of ROUTES) {
    t.ok(r.template.startsWith('/api/'), `${r.name} starts with /api/`)
    t.ok(balanced(r.template), `${r.name} has balanced braces and parentheses`)
    t.notOk(r.template.includes('?'), `${r.name} has no query string`)
    if (r.name !== 'metadata.get') t.notOk(r.template.includes('$'), `${r.name} has no $count segment (the matcher handles it)`)
  }
})

t.test('permissions and rate classes are known', async t => {
  const known = new Set<string>(PERMISSIONS)
  for (const r of ROUTES) {
    t.ok(r.permissions.length > 0, `${r.name} needs at least one permission`)
    for (const p of r.permissions) t.ok(known.has(p), `${r.name}: ${p} is a known permission`)
    t.ok(Object.hasOwn(RATE_CLASSES, r.rateClass), `${r.name}: rate class ${r.rateClass} exists`)
  }
})

t.test('writes flag', async t => {
  for (const r of ROUTES) {
    if (r.method === 'GET') t.equal(r.writes, false, `${r.name}: GET never writes`)
  }
  for (const template of READ_ONLY_POSTS) {
    const found = find('POST', template)
    t.equal(found.length, 1, `POST ${template} present`)
    t.equal(found[0]?.writes, false, `POST ${template} only reads`)
  }
  const readOnly = new Set(READ_ONLY_POSTS.map(p => p.toLowerCase()))
  for (const r of ROUTES) {
    if (r.method !== 'GET' && !readOnly.has(r.template.toLowerCase())) {
      t.equal(r.writes, true, `${r.name}: ${r.method} changes state`)
    }
  }
})

t.test('no read permission unlocks a write route', async t => {
  for (const r of ROUTES) {
    if (!r.writes) continue
    for (const p of r.permissions) t.notOk(p.endsWith('.Read.All'), `${r.name} must not accept ${p}`)
  }
})

const SPOT_CHECKS: Array<[HttpMethod, string, Permission[], RateClass]> = [
  ['GET', '/api/alerts', ['Alert.Read.All', 'Alert.ReadWrite.All'], 'default'],
  ['PATCH', '/api/alerts/{id}', ['Alert.ReadWrite.All'], 'default'],
  ['POST', '/api/alerts/batchUpdate', ['Alert.ReadWrite.All'], 'alertBatchUpdate'],
  ['POST', '/api/alerts/CreateAlertByReference', ['Alert.ReadWrite.All'], 'alertCreateByReference'],
  ['GET', '/api/alerts/{id}/domains', ['Url.Read.All'], 'default'],
  ['GET', '/api/machines/{id}/alerts', ['Alert.Read.All', 'Alert.ReadWrite.All'], 'default'],
  ['GET', '/api/machines/{id}/vulnerabilities', ['Vulnerability.Read.All'], 'machineVulnerabilities'],
  ['GET', '/api/machines/findbyip({args})', ['Machine.Read.All', 'Machine.ReadWrite.All'], 'default'],
  ['GET', '/api/machines/find({args})', ['Machine.Read.All', 'Machine.ReadWrite.All'], 'unlimited'],
  ['POST', '/api/machines/{id}/startInvestigation', ['Alert.ReadWrite.All'], 'startInvestigation'],
  ['POST', '/api/machines/{id}/isolate', ['Machine.Isolate'], 'default'],
  ['GET', '/api/machineactions/{id}/getPackageUri', ['Machine.Read.All', 'Machine.ReadWrite.All'], 'packageUri'],
  ['POST', '/api/machines/{id}/StopAndQuarantineFile', ['Machine.StopAndQuarantine'], 'default'],
  ['POST', '/api/machines/{id}/runliveresponse', ['Machine.LiveResponse'], 'liveResponse'],
  ['GET', '/api/machineactions/{id}/GetLiveResponseResultDownloadLink({args})', ['Machine.Read.All', 'Machine.ReadWrite.All'], 'default'],
  ['POST', '/api/machineactions/{id}/cancel', ['Machine.CollectForensics', 'Machine.Isolate', 'Machine.RestrictExecution', 'Machine.Scan', 'Machine.Offboard', 'Machine.StopAndQuarantine', 'Machine.LiveResponse'], 'default'],
  ['DELETE', '/api/libraryfiles/{fileName}', ['Library.Manage'], 'default'],
  ['POST', '/api/advancedqueries/run', ['AdvancedQuery.Read.All'], 'advancedQuery'],
  ['GET', '/api/indicators', ['Ti.ReadWrite', 'Ti.ReadWrite.All'], 'default'],
  ['POST', '/api/indicators/import', ['Ti.ReadWrite', 'Ti.ReadWrite.All'], 'indicatorImport'],
  ['POST', '/api/indicators/BatchDelete', ['Ti.ReadWrite', 'Ti.ReadWrite.All'], 'indicatorBatchDelete'],
  ['GET', '/api/domains/{domain}/alerts', ['Alert.Read.All', 'Alert.ReadWrite.All'], 'default'],
  ['GET', '/api/domains/{domain}/stats', ['Url.Read.All'], 'default'],
  ['GET', '/api/users/{userName}/machines', ['Machine.Read.All', 'Machine.ReadWrite.All'], 'default'],
  ['GET', '/api/recommendations/{id}/software', ['Software.Read.All'], 'unlimited'],
  ['GET', '/api/baselineProfiles', ['SecurityBaselinesAssessment.Read.All'], 'unlimited'],
  ['GET', '/api/machines/SoftwareVulnerabilitiesByMachine', ['Vulnerability.Read.All'], 'exportByMachine'],
  ['GET', '/api/machines/BaselineComplianceAssessmentExport', ['SecurityBaselinesAssessment.Read.All'], 'exportFiles'],
  ['GET', '/api/machines/InfoGatheringExport', ['Vulnerability.Read.All'], 'exportFiles'],
  ['GET', '/api/deviceavinfo', ['Machine.Read.All'], 'exportByMachine'],
  ['POST', '/api/DeviceAuthenticatedScanDefinitions/GetScanHistoryBySessionId', ['Machine.Read.All'], 'default']
]

t.test('spot checks against the reference', async t => {
  for (const [method, template, permissions, rateClass] of SPOT_CHECKS) {
    const found = find(method, template)
    t.equal(found.length, 1, `${method} ${template} present exactly once`)
    const r = found[0]
    if (r === undefined) continue
    t.same([...r.permissions].sort(), [...permissions].sort(), `${method} ${template} permissions`)
    t.equal(r.rateClass, rateClass, `${method} ${template} rate class`)
  }
})

t.test('single-entry templates', async t => {
  t.equal(ROUTES.filter(r => r.template.toLowerCase() === '/api/$metadata').length, 1, '$metadata once, read-only')
  t.equal(ROUTES.filter(r => r.template.toLowerCase().endsWith('/startinvestigation')).length, 1, 'startInvestigation once')
  t.equal(ROUTES.filter(r => r.template.toLowerCase().endsWith('/infogatheringexport')).length, 1, 'InfoGatheringExport once')
})

t.test('permission list and rate classes', async t => {
  t.equal(new Set(PERMISSIONS).size, PERMISSIONS.length, 'permissions unique')
  t.ok(PERMISSIONS.includes('SecurityConfiguration.Read.All'))
  t.ok(PERMISSIONS.includes('SecurityConfiguration.ReadWrite.All'))
  t.same(RATE_CLASSES.startInvestigation, { perMinute: null, perHour: 50 })
  t.same(RATE_CLASSES.unlimited, { perMinute: null, perHour: null })
})

t.test('route count', async t => {
  t.ok(ROUTES.length >= 105, `at least 105 routes (have ${ROUTES.length})`)
})
