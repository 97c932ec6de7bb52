import t from 'tap'
import { decideLink, knownLinkHosts, MAX_LINK_BYTES } from '../../src/proxy/link-policy.js'

const PREFIX = 'https://gw.example.com/tenants/contoso'
const known = knownLinkHosts('public', ['https://127.0.0.1:8443', 'http://proxy.internal:8080/defender'], ['wpatdadi-eus-stg.cloudapp.net'])
const decide = (link: string): string => {
  const d = decideLink(link, known, PREFIX)
  return d.action === 'rewrite' ? d.link : d.action === 'keep' ? 'keep' : `remove:${d.reason}`
}

// One row per class of link Defender (or something pretending to be it) may send.
const rows: Array<[string, string, string]> = [
  ['region host', 'https://eu.api.security.microsoft.com/api/alerts?$skip=10', `${PREFIX}/api/alerts?$skip=10`],
  ['global host', 'https://api.security.microsoft.com/api/machines?$skip=1', `${PREFIX}/api/machines?$skip=1`],
  ['legacy global host', 'https://api.securitycenter.microsoft.com/api/machines/SoftwareInventoryByMachine?pageSize=5&$skiptoken=eyJhIjoxfQ%3D%3D', `${PREFIX}/api/machines/SoftwareInventoryByMachine?pageSize=5&$skiptoken=eyJhIjoxfQ%3D%3D`],
  ['legacy geo host, explicit :443, upper case', 'https://API-US.SecurityCenter.Windows.com:443/API/Machines', `${PREFIX}/API/Machines`],
  ['http on a known host', 'http://api-us.securitycenter.microsoft.com/api', `${PREFIX}/api`],
  ['configured region with its port', 'https://127.0.0.1:8443/api/v1.0/alerts?%24skip=5&x=a+b%20c', `${PREFIX}/api/v1.0/alerts?%24skip=5&x=a+b%20c`],
  ['configured region, path prefix ignored', 'http://proxy.internal:8080/api/alerts', `${PREFIX}/api/alerts`],
  ['operator-listed extra host', 'https://wpatdadi-eus-stg.cloudapp.net/api/machines/SoftwareVulnerabilitiesTimeline?pageSize=5', `${PREFIX}/api/machines/SoftwareVulnerabilitiesTimeline?pageSize=5`],
  ['blob download host', 'https://tvmexportexternalprdeus.blob.core.windows.net/x/y.json.gz?sv=1&sig=abc', 'keep'],
  ['package download host', 'https://userrequests-us.securitycenter.windows.com:443/safedownload/x.zip?token=t', 'keep'],
  ['blob host over http', 'http://x.blob.core.windows.net/x', 'remove:unknown_host'],
  ['other host', 'https://evil.example/api/alerts?$skip=1', 'remove:unknown_host'],
  ['known name as a prefix of another', 'https://api.security.microsoft.com.evil.example/api/alerts', 'remove:unknown_host'],
  ['known name in the path', 'https://evil.example/api.security.microsoft.com/api', 'remove:unknown_host'],
  ['loopback not configured', 'https://localhost:1059/api/alerts', 'remove:unknown_host'],
  ['configured host, other port', 'https://127.0.0.1:9999/api/alerts', 'remove:unknown_host'],
  ['known host, odd port', 'https://api.security.microsoft.com:8443/api/alerts', 'remove:unknown_host'],
  ['punycode look-alike', 'https://xn--pi-7ld.security.microsoft.com/api/alerts', 'remove:unknown_host'],
  ['protocol-relative', '//evil.example/api/alerts', 'remove:malformed'],
  ['relative path', '/api/alerts?$skip=1', 'remove:malformed'],
  ['userinfo before a known host', 'https://evil.example@api.security.microsoft.com/api/alerts', 'remove:malformed'],
  ['known host as userinfo', 'https://api.security.microsoft.com@evil.example/api/alerts', 'remove:malformed'],
  ['known host as userinfo with port', 'https://api.security.microsoft.com:443@evil.example/api', 'remove:malformed'],
  ['backslash authority', 'https:\\\\evil.example/api/alerts', 'remove:malformed'],
  ['backslash after host', 'https://evil.example\\@api.security.microsoft.com/api', 'remove:malformed'],
  ['backslash in path', 'https://api.security.microsoft.com/api\\..\\x', 'remove:malformed'],
  ['tab in host (parsers strip it)', 'https://api.security.microsoft.com\t.evil.example/api', 'remove:malformed'],
  ['newline', 'https://api.security.microsoft.com/api/alerts\n', 'remove:malformed'],
  ['NUL', 'https://api.security.microsoft.com/api\u0000x', 'remove:malformed'],
  ['DEL', 'https://api.security.microsoft.com/api\u007f', 'remove:malformed'],
  ['space', 'https://api.security.microsoft.com/api/alerts?$filter=a eq b', 'remove:malformed'],
  ['quote', 'https://api.security.microsoft.com/api/"x', 'remove:malformed'],
  ['fullwidth dot (IDNA folds it)', 'https://api\uff0esecurity.microsoft.com/api/alerts', 'remove:malformed'],
  ['Cyrillic look-alike', 'https://\u0430pi.security.microsoft.com/api/alerts', 'remove:malformed'],
  ['non-ASCII in path', 'https://api.security.microsoft.com/api/\u00e9', 'remove:malformed'],
  ['IPv6 literal', 'https://[::1]/api/alerts', 'remove:malformed'],
  ['empty authority', 'https:///api/alerts', 'remove:malformed'],
  ['port out of range', 'https://api.security.microsoft.com:99999/api', 'remove:malformed'],
  ['empty label', 'https://api..security.microsoft.com/api', 'remove:malformed'],
  ['trailing dot', 'https://api.security.microsoft.com./api', 'remove:malformed'],
  ['fragment', 'https://api.security.microsoft.com/api/alerts#x', 'remove:malformed'],
  ['other scheme', 'javascript:alert(1)//api', 'remove:malformed'],
  ['ftp', 'ftp://api.security.microsoft.com/api', 'remove:malformed'],
  ['quoted link', '"https://api.security.microsoft.com/api/alerts"', 'remove:malformed'],
  ['not a url', 'not a url', 'remove:malformed'],
  ['empty', '', 'remove:malformed'],
  ['known host, not /api', 'https://api.security.microsoft.com/other/path', 'remove:not_api_path'],
  ['known host, /apix', 'https://api.security.microsoft.com/apix/alerts', 'remove:not_api_path'],
  ['known host, no path', 'https://api.security.microsoft.com', 'remove:not_api_path'],
  ['dot segments out of /api', 'https://api.security.microsoft.com/api/../../admin/regions', 'remove:not_api_path'],
  ['encoded dot segments', 'https://api.security.microsoft.com/api/%2E%2e/x', 'remove:not_api_path'],
  ['oversized', `https://api.security.microsoft.com/api/alerts?$skiptoken=${'a'.repeat(MAX_LINK_BYTES)}`, 'remove:too_long']
]

for (const [name, link, expected] of rows) {
  t.test(`nextLink class: ${name}`, async (t) => { t.equal(decide(link), expected) })
}

t.test('a removal reports host and path only, never the query', async (t) => {
  const d = decideLink('https://evil.example/api/alerts?sig=SECRET', known, PREFIX)
  t.same(d, { action: 'remove', reason: 'unknown_host', host: 'evil.example', path: '/api/alerts' })
  t.notOk(JSON.stringify(decideLink('https://evil.example@x/api?sig=SECRET', known, PREFIX)).includes('SECRET'))
})

t.test('every cloud knows its own hosts and no other cloud\'s', async (t) => {
  t.ok(knownLinkHosts('gcc', []).has('api-gcc.securitycenter.microsoft.us:443'))
  t.notOk(knownLinkHosts('gcc', []).has('api.security.microsoft.com:443'))
  t.ok(knownLinkHosts('dod', []).has('api-gov.securitycenter.microsoft.us:443'))
  t.notOk(knownLinkHosts('public', []).has('api-gov.securitycenter.microsoft.us:443'))
})
