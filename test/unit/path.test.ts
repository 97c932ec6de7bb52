import t from 'tap'
import { MAX_PATH_LENGTH, MAX_QUERY_LENGTH, parseTarget } from '../../src/policy/path.js'

const GUID = '5f1c2a3b-0d4e-4f60-8a7b-9c0d1e2f3a4b'
const T = `/tenants/${GUID}`

interface Good {
  readonly url: string
  readonly tenantRef: string
  readonly upstreamPath: string
  readonly query: string
  readonly segments: readonly string[]
}

const good: readonly Good[] = [
  { url: `${T}/api`, tenantRef: GUID, upstreamPath: '/api', query: '', segments: [] },
  { url: `${T}/api/`, tenantRef: GUID, upstreamPath: '/api/', query: '', segments: [] },
  { url: `${T}/api/alerts`, tenantRef: GUID, upstreamPath: '/api/alerts', query: '', segments: ['alerts'] },
  { url: `${T}/api/alerts/`, tenantRef: GUID, upstreamPath: '/api/alerts/', query: '', segments: ['alerts'] },
  { url: `/tenants/${GUID.toUpperCase()}/api/alerts`, tenantRef: GUID, upstreamPath: '/api/alerts', query: '', segments: ['alerts'] },
  { url: '/tenants/Contoso/api/machines', tenantRef: 'contoso', upstreamPath: '/api/machines', query: '', segments: ['machines'] },
  { url: '/tenants/fabrikam-eu_2.prod/api/alerts', tenantRef: 'fabrikam-eu_2.prod', upstreamPath: '/api/alerts', query: '', segments: ['alerts'] },
  { url: `${T}/api/v1.0/alerts`, tenantRef: GUID, upstreamPath: '/api/v1.0/alerts', query: '', segments: ['v1.0', 'alerts'] },
  { url: `${T}/API/Machines`, tenantRef: GUID, upstreamPath: '/API/Machines', query: '', segments: ['Machines'] },
  // query strings stay byte-for-byte, '?' included
  { url: `${T}/api/alerts?$top=10&$skip=20`, tenantRef: GUID, upstreamPath: '/api/alerts', query: '?$top=10&$skip=20', segments: ['alerts'] },
  { url: `${T}/api/alerts?%24top=10`, tenantRef: GUID, upstreamPath: '/api/alerts', query: '?%24top=10', segments: ['alerts'] },
  {
    url: `${T}/api/alerts?$filter=lastUpdateTime+gt+2024-01-01T00:00:00Z&$expand=evidence`,
    tenantRef: GUID,
    upstreamPath: '/api/alerts',
    query: '?$filter=lastUpdateTime+gt+2024-01-01T00:00:00Z&$expand=evidence',
    segments: ['alerts']
  },
  {
    url: `${T}/api/alerts?$filter=lastUpdateTime%20gt%202024-01-01T00:00:00Z`,
    tenantRef: GUID,
    upstreamPath: '/api/alerts',
    query: '?$filter=lastUpdateTime%20gt%202024-01-01T00:00:00Z',
    segments: ['alerts']
  },
  // encodings that are forbidden in the path are only data in the query
  { url: `${T}/api/alerts?x=%2f%2e%2e%25%5c`, tenantRef: GUID, upstreamPath: '/api/alerts', query: '?x=%2f%2e%2e%25%5c', segments: ['alerts'] },
  { url: `${T}/api/alerts?`, tenantRef: GUID, upstreamPath: '/api/alerts', query: '?', segments: ['alerts'] },
  { url: `${T}/api?$metadata`, tenantRef: GUID, upstreamPath: '/api', query: '?$metadata', segments: [] },
  // OData function segments
  {
    url: `${T}/api/machines/findbyip(ip='10.1.2.3',timestamp=2024-01-01T00:00:00Z)`,
    tenantRef: GUID,
    upstreamPath: "/api/machines/findbyip(ip='10.1.2.3',timestamp=2024-01-01T00:00:00Z)",
    query: '',
    segments: ['machines', "findbyip(ip='10.1.2.3',timestamp=2024-01-01T00:00:00Z)"]
  },
  {
    url: `${T}/api/machines/findbyip(ip=%2710.1.2.3%27,timestamp=2024-01-01T00:00:00Z)`,
    tenantRef: GUID,
    upstreamPath: '/api/machines/findbyip(ip=%2710.1.2.3%27,timestamp=2024-01-01T00:00:00Z)',
    query: '',
    segments: ['machines', "findbyip(ip='10.1.2.3',timestamp=2024-01-01T00:00:00Z)"]
  },
  {
    url: `${T}/api/machines/find(timestamp=2024-01-01T00%3A00%3A00Z,key='ab')`,
    tenantRef: GUID,
    upstreamPath: "/api/machines/find(timestamp=2024-01-01T00%3A00%3A00Z,key='ab')",
    query: '',
    segments: ['machines', "find(timestamp=2024-01-01T00:00:00Z,key='ab')"]
  },
  {
    url: `${T}/api/machineactions/7f2c/GetLiveResponseResultDownloadLink(index=0)`,
    tenantRef: GUID,
    upstreamPath: '/api/machineactions/7f2c/GetLiveResponseResultDownloadLink(index=0)',
    query: '',
    segments: ['machineactions', '7f2c', 'GetLiveResponseResultDownloadLink(index=0)']
  },
  { url: `${T}/api/machines/abc/alerts/$count`, tenantRef: GUID, upstreamPath: '/api/machines/abc/alerts/$count', query: '', segments: ['machines', 'abc', 'alerts', '$count'] },
  { url: `${T}/api/alerts/%24count`, tenantRef: GUID, upstreamPath: '/api/alerts/%24count', query: '', segments: ['alerts', '$count'] },
  // ids: names, IPs, hashes, CVEs, vendor-_-product, domains
  { url: `${T}/api/machines/DESKTOP-01.corp.local`, tenantRef: GUID, upstreamPath: '/api/machines/DESKTOP-01.corp.local', query: '', segments: ['machines', 'DESKTOP-01.corp.local'] },
  { url: `${T}/api/machines/My%20PC`, tenantRef: GUID, upstreamPath: '/api/machines/My%20PC', query: '', segments: ['machines', 'My PC'] },
  { url: `${T}/api/machines/a+b`, tenantRef: GUID, upstreamPath: '/api/machines/a+b', query: '', segments: ['machines', 'a+b'] },
  { url: `${T}/api/ips/10.1.2.3/stats`, tenantRef: GUID, upstreamPath: '/api/ips/10.1.2.3/stats', query: '', segments: ['ips', '10.1.2.3', 'stats'] },
  { url: `${T}/api/ips/2001:db8::1/alerts`, tenantRef: GUID, upstreamPath: '/api/ips/2001:db8::1/alerts', query: '', segments: ['ips', '2001:db8::1', 'alerts'] },
  {
    url: `${T}/api/files/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`,
    tenantRef: GUID,
    upstreamPath: '/api/files/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    query: '',
    segments: ['files', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']
  },
  { url: `${T}/api/vulnerabilities/CVE-2024-3094`, tenantRef: GUID, upstreamPath: '/api/vulnerabilities/CVE-2024-3094', query: '', segments: ['vulnerabilities', 'CVE-2024-3094'] },
  { url: `${T}/api/Software/microsoft-_-edge/distributions`, tenantRef: GUID, upstreamPath: '/api/Software/microsoft-_-edge/distributions', query: '', segments: ['Software', 'microsoft-_-edge', 'distributions'] },
  { url: `${T}/api/domains/example.com/alerts`, tenantRef: GUID, upstreamPath: '/api/domains/example.com/alerts', query: '', segments: ['domains', 'example.com', 'alerts'] },
  { url: `${T}/api/users/jdoe/machines`, tenantRef: GUID, upstreamPath: '/api/users/jdoe/machines', query: '', segments: ['users', 'jdoe', 'machines'] },
  { url: `${T}/api/machines/a%23b`, tenantRef: GUID, upstreamPath: '/api/machines/a%23b', query: '', segments: ['machines', 'a#b'] },
  // dots that are not dot segments
  { url: `${T}/api/machines/...`, tenantRef: GUID, upstreamPath: '/api/machines/...', query: '', segments: ['machines', '...'] },
  { url: `${T}/api/machines/.hidden`, tenantRef: GUID, upstreamPath: '/api/machines/.hidden', query: '', segments: ['machines', '.hidden'] },
  // limits are inclusive
  {
    url: `${T}/api/${'a'.repeat(MAX_PATH_LENGTH - `${T}/api/`.length)}`,
    tenantRef: GUID,
    upstreamPath: `/api/${'a'.repeat(MAX_PATH_LENGTH - `${T}/api/`.length)}`,
    query: '',
    segments: ['a'.repeat(MAX_PATH_LENGTH - `${T}/api/`.length)]
  },
  {
    url: `${T}/api/alerts?${'q'.repeat(MAX_QUERY_LENGTH - 1)}`,
    tenantRef: GUID,
    upstreamPath: '/api/alerts',
    query: `?${'q'.repeat(MAX_QUERY_LENGTH - 1)}`,
    segments: ['alerts']
  }
]

interface Bad { readonly name: string, readonly url: string }

const bad: readonly Bad[] = [
  { name: 'raw .. segment', url: `${T}/api/../admin` },
  { name: 'raw .. at the end', url: `${T}/api/alerts/..` },
  { name: 'raw .. before a trailing slash', url: `${T}/api/alerts/../` },
  { name: 'raw . segment', url: `${T}/api/./alerts` },
  { name: 'raw . at the end', url: `${T}/api/alerts/.` },
  { name: 'raw .. between tenant and api', url: `${T}/../api/alerts` },
  { name: 'raw .. as tenant', url: '/tenants/../api/alerts' },
  { name: 'raw . as tenant', url: '/tenants/./api/alerts' },
  { name: 'raw .. before tenants', url: `/x/..${T}/api/alerts` },
  { name: '%2e%2e segment', url: `${T}/api/%2e%2e/admin` },
  { name: '%2E. segment', url: `${T}/api/%2E./admin` },
  { name: '.%2e segment', url: `${T}/api/.%2e/admin` },
  { name: '%2e segment', url: `${T}/api/%2e/alerts` },
  { name: '%2f in a segment', url: `${T}/api/machines/a%2f..%2fadmin` },
  { name: '%2F in a segment', url: `${T}/api/machines/a%2Fb` },
  { name: '%5c in a segment', url: `${T}/api/machines/a%5cb` },
  { name: '%5C in a segment', url: `${T}/api/machines/a%5Cb` },
  { name: 'raw backslash', url: `${T}/api/machines\\..\\admin` },
  { name: 'raw backslash in query', url: `${T}/api/alerts?x=\\` },
  { name: '%00 in path', url: `${T}/api/machines/a%00b` },
  { name: '%0a in path', url: `${T}/api/machines/a%0ab` },
  { name: '%0D in path', url: `${T}/api/machines/a%0Db` },
  { name: '%1f in path', url: `${T}/api/machines/a%1fb` },
  { name: '%7f in path', url: `${T}/api/machines/a%7fb` },
  { name: 'raw NUL', url: `${T}/api/machines/a\u0000b` },
  { name: 'raw LF', url: `${T}/api/machines/a\nb` },
  { name: 'raw CR in query', url: `${T}/api/alerts?x=\r` },
  { name: 'raw tab', url: `${T}/api/machines/a\tb` },
  { name: 'raw DEL', url: `${T}/api/machines/a\u007fb` },
  { name: '%25 (double encoding) %252f', url: `${T}/api/machines/a%252fb` },
  { name: '%25 (double encoding) %252e%252e', url: `${T}/api/%252e%252e/admin` },
  { name: '%25 alone', url: `${T}/api/machines/100%25` },
  { name: '// inside', url: `${T}/api//alerts` },
  { name: '// before api', url: `/tenants/${GUID}//api/alerts` },
  { name: 'leading //', url: `/${T}/api/alerts` },
  { name: 'trailing //', url: `${T}/api/alerts//` },
  { name: 'absolute-form http', url: `http://evil${T}/api/alerts` },
  { name: 'absolute-form https', url: `https://evil.example${T}/api/alerts` },
  { name: 'asterisk-form', url: '*' },
  { name: 'empty', url: '' },
  { name: 'no leading slash', url: `tenants/${GUID}/api/alerts` },
  { name: 'root', url: '/' },
  { name: 'not under tenants', url: '/api/alerts' },
  { name: 'tenants without id', url: '/tenants/api/alerts' },
  { name: 'tenants with empty id', url: '/tenants//api/alerts' },
  { name: 'no api after tenant', url: `${T}/alerts` },
  { name: 'tenant only', url: T },
  { name: 'tenant only with slash', url: `${T}/` },
  { name: 'apix is not api', url: `${T}/apix/alerts` },
  { name: 'api. is not api', url: `${T}/api.json` },
  { name: 'tenant with %', url: '/tenants/con%74oso/api/alerts' },
  { name: 'tenant with space', url: '/tenants/con toso/api/alerts' },
  { name: 'tenant with @', url: '/tenants/a@b/api/alerts' },
  { name: 'tenant with colon', url: '/tenants/a:b/api/alerts' },
  { name: 'tenant with quote', url: "/tenants/a'b/api/alerts" },
  { name: 'tenant over 64 chars', url: `/tenants/${'a'.repeat(65)}/api/alerts` },
  { name: 'path over limit', url: `${T}/api/${'a'.repeat(MAX_PATH_LENGTH + 1 - `${T}/api/`.length)}` },
  { name: 'query over limit', url: `${T}/api/alerts?${'q'.repeat(MAX_QUERY_LENGTH)}` },
  // WHATWG URL parsing (reply-from's buildURL) drops everything after '#', so the route matched on
  // the segments would differ from the path sent upstream: machines/{id}#/alerts -> /api/machines/{id}
  { name: 'raw # in path', url: `${T}/api/machines/abc#/alerts` },
  { name: 'raw # at the end of the path', url: `${T}/api/alerts/abc#` },
  { name: 'raw # in query', url: `${T}/api/alerts?$top=1#x` },
  { name: 'malformed %zz', url: `${T}/api/machines/%zz` },
  { name: 'truncated %4', url: `${T}/api/machines/a%4` },
  { name: 'truncated UTF-8 %e0%a4', url: `${T}/api/machines/%e0%a4` },
  { name: 'invalid UTF-8 %c0%af', url: `${T}/api/machines/%c0%af` }
]

t.test('good targets parse into tenant, raw path, raw query and decoded segments', async (t) => {
  for (const row of good) {
    const label = row.url.length > 120 ? `${row.url.slice(0, 117)}...` : row.url
    const result = parseTarget(row.url)
    if (!result.ok) {
      t.fail(`${label}: rejected (${result.reason})`)
      continue
    }
    t.same(result.target, {
      tenantRef: row.tenantRef,
      // the segment exactly as sent, for messages (the lowercase ref is for look-ups)
      tenantWritten: /^\/tenants\/([^/]+)/.exec(row.url)?.[1],
      upstreamPath: row.upstreamPath,
      query: row.query,
      segments: row.segments
    }, label)
  }
})

t.test('hostile or malformed targets are rejected with a reason', async (t) => {
  for (const row of bad) {
    const result = parseTarget(row.url)
    t.equal(result.ok, false, row.name)
    if (!result.ok) t.match(result.reason, /\S/, `${row.name}: has a reason`)
  }
})

t.test('upstream path plus query is the original target after the tenant prefix', async (t) => {
  for (const row of good) {
    const result = parseTarget(row.url)
    if (!result.ok) continue
    t.equal(`/tenants/${row.url.split('/')[2] ?? ''}${result.target.upstreamPath}${result.target.query}`, row.url)
  }
})
