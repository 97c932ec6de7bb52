import t from 'tap'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { gatewayLinkRewriter, NextLinkTransform, rewriteNextLinks } from '../../src/proxy/next-link.js'

const rewrite = gatewayLinkRewriter('https://gw.example.com/', 'contoso')

async function through (chunks: Array<string | Buffer>): Promise<string> {
  return await text(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new NextLinkTransform(rewrite)))
}

// One row per link shape: what Defender may send, and what the caller must get.
const links: Array<[string, string | undefined]> = [
  ['https://api.securitycenter.microsoft.com/api/alerts?$top=10&$skip=10', 'https://gw.example.com/tenants/contoso/api/alerts?$top=10&$skip=10'],
  ['https://wpatdadi-eus-stg.cloudapp.net/api/machines/SoftwareVulnerabilitiesTimeline?pageSize=5&$skiptoken=eyJhIjoxfQ%3D%3D', 'https://gw.example.com/tenants/contoso/api/machines/SoftwareVulnerabilitiesTimeline?pageSize=5&$skiptoken=eyJhIjoxfQ%3D%3D'],
  ['https://127.0.0.1/api/v1.0/alerts?%24skip=5&x=a+b%20c', 'https://gw.example.com/tenants/contoso/api/v1.0/alerts?%24skip=5&x=a+b%20c'],
  ['https://localhost:1059/API/Machines', 'https://gw.example.com/tenants/contoso/API/Machines'],
  ['http://api-us.securitycenter.microsoft.com/api', 'https://gw.example.com/tenants/contoso/api'],
  ['https://tvmexportexternalprdeus.blob.core.windows.net/api/x.json.gz?sig=abc', undefined],
  ['https://userrequests-us.securitycenter.windows.com:443/api/x', undefined],
  ['https://api.securitycenter.microsoft.com/other/path', undefined],
  ['"https://api.securitycenter.microsoft.com/api/alerts"', undefined],
  ['not a url', undefined],
  ['/api/alerts?$skip=1', undefined],
  ['', undefined]
]

for (const [link, expected] of links) {
  t.test(`link ${JSON.stringify(link)}`, async (t) => {
    t.equal(rewrite(link), expected)
    const body = JSON.stringify({ '@odata.context': 'https://x/api/$metadata#Alerts', value: [{ id: 1 }], '@odata.nextLink': link })
    const out = JSON.parse(await through([body]))
    t.equal(out['@odata.nextLink'], expected ?? link)
    t.same(out.value, [{ id: 1 }])
    // the whole-body path (small answers) gives the very same bytes as the streaming one
    t.equal(rewriteNextLinks(Buffer.from(body), rewrite).toString(), await through([body]))
  })
}

t.test('the same answer for every split of the body, at every byte boundary', async (t) => {
  const body = JSON.stringify({
    value: [{ id: 'a', title: 'has \\"@odata.nextLink\\" inside a string', '@odata.nextLink': 'https://h/api/alerts?$skip=1' }],
    '@odata.nextLink': 'https://api.securitycenter.microsoft.com/api/alerts?$skip=2&note=%C3%A9\u00e9'
  }, null, 1)
  const expected = body
    .replace('https://h/api/alerts?$skip=1', 'https://gw.example.com/tenants/contoso/api/alerts?$skip=1')
    .replace('https://api.securitycenter.microsoft.com/api/alerts', 'https://gw.example.com/tenants/contoso/api/alerts')
  const bytes = Buffer.from(body)
  let mismatches = 0
  for (let i = 0; i <= bytes.length; i++) {
    if (await through([bytes.subarray(0, i), bytes.subarray(i)]) !== expected) mismatches++
  }
  const oneByOne = await through(Array.from(bytes, (b) => Buffer.from([b])))
  t.equal(mismatches, 0, `all ${bytes.length + 1} two-chunk splits agree`)
  t.equal(oneByOne, expected, 'one byte per chunk agrees')
})

t.test('escaped characters in a link survive; non-string values and other keys are untouched', async (t) => {
  const body = '{"@odata.nextLink" : "https:\\/\\/api.x.com\\/api\\/alerts?$skip=1\\u0026a=b", "n": {"@odata.nextLink": null}, "@odata.nextLinkX": "https://a/api/x"}'
  const out = JSON.parse(await through([body]))
  t.equal(out['@odata.nextLink'], 'https://gw.example.com/tenants/contoso/api/alerts?$skip=1&a=b')
  t.equal(out.n['@odata.nextLink'], null)
  t.equal(out['@odata.nextLinkX'], 'https://a/api/x')
})

t.test('a body that is not JSON passes through byte for byte', async (t) => {
  const odd = 'x"@odata.nextLink": "unterminated'
  t.equal(await through([odd.slice(0, 7), odd.slice(7)]), odd)
  t.equal(await through(['"@odata.nextLink"']), '"@odata.nextLink"')
  t.equal(await through(['"@odata.nextLink": 12']), '"@odata.nextLink": 12')
})

t.test('an overlong value is passed through rather than buffered without bound', async (t) => {
  const long = `https://a/api/x?${'q'.repeat(70_000)}`
  const body = `{"@odata.nextLink":"${long}"}`
  const chunks = body.match(/[\s\S]{1,1000}/g) as string[]
  t.equal(await through(chunks), body)
})

t.test('the whole-body rewrite returns the same buffer, uncopied, when there is no nextLink', async (t) => {
  const body = Buffer.from(JSON.stringify({ value: [{ id: 1, title: '@odata.nextLink without quotes' }] }))
  t.equal(rewriteNextLinks(body, rewrite), body)
  const bad = Buffer.from('{"@odata.nextLink": 42, "@odata.nextLink": "https://h/api/x"}')
  t.equal(rewriteNextLinks(bad, rewrite).toString(), '{"@odata.nextLink": 42, "@odata.nextLink": "https://gw.example.com/tenants/contoso/api/x"}')
})
