import t from 'tap'
import { ROUTES } from '../../src/policy/catalogue-data.js'
import type { HttpMethod } from '../../src/policy/catalogue-data.js'
import { createMatcher } from '../../src/policy/match.js'

const match = createMatcher(ROUTES)

const FIND_BY_IP = "findbyip(ip='10.1.2.3',timestamp=2024-01-01T00:00:00Z)"
const MACHINE = '4275c337d63a3a63458a050a52b7d10761d5aac9'

/** [method, segments after /api (decoded), expected route name or undefined] */
type Row = readonly [string, readonly string[], string | undefined]

const rows: readonly Row[] = [
  // plain collections and entities
  ['GET', ['alerts'], 'alerts.list'],
  ['GET', ['alerts', 'da637'], 'alerts.get'],
  ['PATCH', ['alerts', 'da637'], 'alerts.update'],
  ['POST', ['alerts', 'batchUpdate'], 'alerts.batchUpdate'],
  ['GET', ['alerts', 'da637', 'domains'], 'alerts.domains'],
  ['GET', ['machines'], 'machines.list'],
  ['GET', ['machines', MACHINE], 'machines.get'],
  ['GET', ['machines', 'DESKTOP-01.corp.local'], 'machines.get'],
  ['POST', ['machines', MACHINE, 'isolate'], 'machines.isolate'],
  ['POST', ['advancedqueries', 'run'], 'advancedQueries.run'],
  ['GET', ['indicators'], 'indicators.list'],
  ['POST', ['indicators'], 'indicators.submit'],
  ['DELETE', ['indicators', '123'], 'indicators.delete'],
  ['DELETE', ['libraryfiles', 'script.ps1'], 'libraryFiles.delete'],
  ['GET', ['files', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'], 'files.get'],
  ['GET', ['ips', '10.1.2.3', 'stats'], 'ips.stats'],
  ['GET', ['ips', '2001:db8::1', 'alerts'], 'ips.alerts'],
  ['GET', ['domains', 'example.com', 'alerts'], 'domains.alerts'],
  ['GET', ['users', 'jdoe', 'machines'], 'users.machines'],
  ['GET', ['vulnerabilities', 'CVE-2024-3094'], 'vulnerabilities.get'],
  ['GET', ['Software', 'microsoft-_-edge', 'distributions'], 'software.distributions'],
  ['GET', ['machines', 'My PC', 'software'], 'machines.software'],
  // case-insensitive literals
  ['GET', ['ALERTS'], 'alerts.list'],
  ['GET', ['Machines', MACHINE], 'machines.get'],
  ['GET', ['MachineActions', 'a1', 'GETPACKAGEURI'], 'machineActions.getPackageUri'],
  ['GET', ['machineactions', 'a1', 'getpackageuri'], 'machineActions.getPackageUri'],
  ['GET', ['machineactions', 'a1', 'GetPackageUri'], 'machineActions.getPackageUri'],
  ['GET', ['software'], 'software.list'],
  ['GET', ['SOFTWARE', 'microsoft-_-edge'], 'software.get'],
  ['GET', ['remediationtasks'], 'remediationTasks.list'],
  ['GET', ['machines', 'browserextensionsinventorybymachine'], 'exports.browserExtensionsByMachine'],
  ['POST', ['Machines', MACHINE, 'RunLiveResponse'], 'machines.runLiveResponse'],
  ['POST', ['deviceauthenticatedscandefinitions', 'getscanhistorybysessionid'], 'scanDefinitions.historyBySession'],
  // optional v1.0
  ['GET', ['v1.0', 'alerts'], 'alerts.list'],
  ['GET', ['V1.0', 'alerts', 'da637'], 'alerts.get'],
  ['POST', ['v1.0', 'machines', MACHINE, 'isolate'], 'machines.isolate'],
  ['GET', ['v1.0'], undefined],
  ['GET', ['v2.0', 'alerts'], undefined],
  ['GET', ['alerts', 'v1.0'], 'alerts.get'],
  // $count on GET collections
  ['GET', ['machines', MACHINE, 'alerts', '$count'], 'machines.alerts'],
  ['GET', ['machines', MACHINE, 'alerts', '$COUNT'], 'machines.alerts'],
  ['GET', ['v1.0', 'machines', MACHINE, 'alerts', '$count'], 'machines.alerts'],
  ['GET', ['Software', 'microsoft-_-edge', 'vulnerabilities', '$count'], 'software.vulnerabilities'],
  ['GET', ['machines', 'SoftwareInventoryByMachine', '$count'], 'exports.softwareInventoryByMachine'],
  ['GET', ['indicators', '$count'], 'indicators.list'],
  ['GET', ['DeviceAuthenticatedScanDefinitions', '$count'], 'scanDefinitions.list'],
  // a top-level collection's $count must count the collection, not read an entity called '$count'
  ['GET', ['alerts', '$count'], 'alerts.list'],
  ['GET', ['machines', '$count'], 'machines.list'],
  ['GET', ['vulnerabilities', '$count'], 'vulnerabilities.list'],
  ['GET', ['$count'], undefined],
  ['GET', ['alerts', '$count', '$count'], undefined],
  // not on POST
  ['POST', ['indicators', '$count'], undefined],
  ['POST', ['machines', MACHINE, 'isolate', '$count'], undefined],
  ['POST', ['advancedqueries', 'run', '$count'], undefined],
  ['POST', ['DeviceAuthenticatedScanDefinitions', '$count'], undefined],
  // OData function segments
  ['GET', ['machines', FIND_BY_IP], 'machines.findByIp'],
  ['GET', ['Machines', FIND_BY_IP.toUpperCase()], 'machines.findByIp'],
  ['GET', ['v1.0', 'machines', FIND_BY_IP], 'machines.findByIp'],
  ['GET', ['machines', "find(timestamp=2024-01-01T00:00:00Z,key='ab')"], 'machines.find'],
  ['GET', ['machines', 'FIND(x=1)'], 'machines.find'],
  ['GET', ['machineactions', 'a1', 'GetLiveResponseResultDownloadLink(index=0)'], 'machineActions.getLiveResponseResultDownloadLink'],
  ['GET', ['machineactions', 'a1', 'getliveresponseresultdownloadlink(index=3)'], 'machineActions.getLiveResponseResultDownloadLink'],
  ['GET', ['machines', "findbyip(ip='10.1.2.3'"], 'machines.get'], // unterminated: only an id
  ['GET', ['machineactions', 'a1', 'GetLiveResponseResultDownloadLink'], undefined],
  ['GET', ['machineactions', 'a1', 'GetLiveResponseResultDownloadLink(index=0)x'], undefined],
  ['POST', ['machines', FIND_BY_IP], undefined],
  // literal beats variable
  ['GET', ['machines', 'findbytag'], 'machines.findByTag'],
  ['GET', ['machines', 'FindByTag'], 'machines.findByTag'],
  ['GET', ['machines', 'SoftwareInventoryByMachine'], 'exports.softwareInventoryByMachine'],
  ['GET', ['machines', 'softwareinventoryexport'], 'exports.softwareInventoryFiles'],
  ['GET', ['Machines', 'InfoGatheringExport'], 'exports.infoGatheringFiles'],
  ['GET', ['vulnerabilities', 'machinesVulnerabilities'], 'vulnerabilities.machinesVulnerabilities'],
  ['GET', ['vulnerabilities', 'MACHINESVULNERABILITIES'], 'vulnerabilities.machinesVulnerabilities'],
  ['POST', ['DeviceAuthenticatedScanDefinitions', 'BatchDelete'], 'scanDefinitions.batchDelete'],
  ['PATCH', ['DeviceAuthenticatedScanDefinitions', 'BatchDelete'], 'scanDefinitions.update'],
  ['PATCH', ['DeviceAuthenticatedScanDefinitions', 'sd-1'], 'scanDefinitions.update'],
  ['POST', ['machines', 'AddOrRemoveTagForMultipleMachines'], 'machines.tagsMultiple'],
  ['POST', ['indicators', 'BatchDelete'], 'indicators.batchDelete'],
  ['POST', ['indicators', 'import'], 'indicators.import'],
  ['GET', ['exposureScore', 'ByMachineGroups'], 'exposureScore.byMachineGroups'],
  // wrong method
  ['DELETE', ['alerts', 'da637'], undefined],
  ['POST', ['alerts'], undefined],
  ['PUT', ['alerts', 'da637'], undefined],
  ['GET', ['machines', MACHINE, 'isolate'], undefined],
  ['GET', ['advancedqueries', 'run'], undefined],
  ['PATCH', ['machines', 'findbytag'], 'machines.update'],
  ['get', ['alerts'], undefined],
  ['HEAD', ['alerts'], undefined],
  ['OPTIONS', ['alerts'], undefined],
  // too many / too few segments
  ['GET', [], undefined],
  ['GET', ['alerts', 'da637', 'domains', 'x'], undefined],
  ['GET', ['alerts', 'da637', 'domains', 'x', 'y'], undefined],
  ['POST', ['machines', 'isolate'], undefined],
  ['GET', ['machineactions', 'getPackageUri'], 'machineActions.get'],
  ['GET', ['libraryfiles', 'a', 'b'], undefined],
  // unknown resources
  ['GET', ['admin'], undefined],
  ['GET', ['$metadata', 'x'], undefined],
  ['GET', ['alert'], undefined],
  ['GET', ['alerts ', 'x'], undefined],
  // empty segments
  ['GET', [''], undefined],
  ['GET', ['alerts', ''], undefined],
  ['GET', ['', 'alerts'], undefined],
  ['GET', ['machines', '', 'alerts'], undefined],
  ['POST', ['machines', '', 'isolate'], undefined],
  ['GET', ['v1.0', ''], undefined],
  ['GET', ['machines', MACHINE, 'alerts', ''], undefined]
]

t.test('method + segments -> route name', async (t) => {
  for (const [method, segments, expected] of rows) {
    t.equal(match(method, segments)?.name, expected, `${method} /api/${segments.join('/')} -> ${expected ?? 'no route'}`)
  }
})

const SAMPLE_VARIABLE = 'sample-Id_01.x'
const SAMPLE_ARGS = "ip='1.2.3.4',timestamp=2024-01-01T00:00:00Z"

function fill (template: string): string[] {
  return template.split('/').slice(2).map((segment) => segment
    .replace(/\(\{[a-zA-Z]+\}\)$/, `(${SAMPLE_ARGS})`)
    .replace(/^\{[a-zA-Z]+\}$/, SAMPLE_VARIABLE))
}

function describe (method: HttpMethod, segments: readonly string[]): string {
  return `${method} /api/${segments.join('/')}`
}

t.test('every catalogue route is matched by its own template, variables filled in', async (t) => {
  for (const route of ROUTES) {
    for (const variant of ['as written', 'upper case', 'v1.0', 'count'] as const) {
      let segments = fill(route.template)
      if (variant === 'upper case') segments = segments.map((s) => s === SAMPLE_VARIABLE ? s : s.toUpperCase())
      if (variant === 'v1.0') segments = ['v1.0', ...segments]
      if (variant === 'count') {
        if (route.method !== 'GET') continue
        segments = [...segments, '$count']
      }
      const found = match(route.method, segments)
      const label = `${route.name} (${variant}): ${describe(route.method, segments)}`
      if (found === undefined) {
        t.fail(`${label} matched nothing`)
        continue
      }
      t.equal(found.method, route.method, `${label}: same method`)
      t.same([...found.permissions].sort(), [...route.permissions].sort(), `${label}: same permissions (got ${found.name})`)
      if (variant !== 'count') t.equal(found.writes, route.writes, `${label}: same writes flag`)
    }
  }
})

t.test('a catalogue route is not reachable with another method', async (t) => {
  const methods: readonly HttpMethod[] = ['GET', 'POST', 'PATCH', 'DELETE']
  for (const route of ROUTES) {
    const segments = fill(route.template)
    for (const method of methods) {
      if (method === route.method) continue
      const found = match(method, segments)
      if (found !== undefined) t.equal(found.method, method, `${describe(method, segments)} -> ${found.name} has that method`)
    }
  }
  t.pass('checked')
})
