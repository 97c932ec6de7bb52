/**
 * What `npm run demo` prints: where everything is, the secrets it made up, and lines to paste. Every
 * `curl` and `npm run` line here is run by test/integration/demo.test.ts exactly as printed; a line's
 * `# NNN` comment is the HTTP status it shows (`# exit N`: the CLI's exit code, else 0), and lines with a
 * shell variable run with the line before.
 */
import { createOnboardingSigner } from '../src/pages/onboarding/signing.js'
import { CONTOSO, FABRIKAM, NORTHWIND, DEMO_CLIENT_ID, type DemoSecrets } from './demo-files.js'

/** the config's default `onboarding.linkLifetimeDays` */
const LINK_DAYS = 30

export interface DemoLinesInput {
  readonly url: string
  readonly adminUrl: string
  readonly dir: string
  readonly configFile: string
  readonly caFile: string
  readonly secrets: DemoSecrets
}

export function demoLines (d: DemoLinesInput): string[] {
  const key = d.secrets.apiKey
  const curl = `curl -s --cacert ${d.caFile}`
  const admin = `curl -s -H 'Authorization: Bearer ${d.secrets.adminToken}'`
  return [
    '',
    'defender-gateway demo is running: simulated Entra ID, Defender regions eu and us, Microsoft Graph security API, 250 alerts per tenant.',
    `  gateway      ${d.url}   (HTTPS; certificate from the demo CA ${d.caFile})`,
    `  admin        ${d.adminUrl}`,
    `  config       ${d.configFile}   (its secrets are files next to it)`,
    `  API key      ${key}   (client 'demo')`,
    `  admin token  ${d.secrets.adminToken}`,
    '',
    `Status page: ${d.adminUrl}/status   (sign in with the admin token)`,
    'Onboarding:  northwind has not consented yet; the link for its admin (also on the status page):',
    `  ${onboardingLink(d, NORTHWIND, 'northwind')}`,
    '',
    'The API (tenants by name or id):',
    `  ${curl} -H 'X-API-Key: ${key}' '${d.url}/tenants/contoso/api/alerts?$top=2'   # 200`,
    `  ${curl} -H 'X-API-Key: ${key}' '${d.url}/tenants/${FABRIKAM}/api/machines'   # 200`,
    `  ${curl} -H 'Authorization: Bearer ${key}' '${d.url}/tenants/contoso/api/alerts?$filter=severity+eq+%27High%27&$top=1'   # 200`,
    `  ${curl} -H 'X-API-Key: ${key}' '${d.url}/tenants/contoso/api/alerts?$top=100' | grep -o '"@odata.nextLink":"[^"]*"'   # 200: page 1 of 3; the next page is on the gateway`,
    `  ${curl} -H 'X-API-Key: ${key}' '${d.url}/tenants/contoso/explain?consent=check'   # 200: what this key may do there, and what the tenant granted`,
    `  ${curl} -H 'X-API-Key: ${key}' -X POST '${d.url}/tenants/fabrikam/api/machines/x/isolate'   # 403: not in client demo's allowlist`,
    `  ${curl} '${d.url}/tenants/contoso/api/alerts'   # 401: no key`,
    `  ${curl} -H 'X-API-Key: ${key}' '${d.url}/fleet/api/alerts?$top=2'   # 200: a fleet read, every tenant in one page (northwind reported as not onboarded); follow @odata.nextLink`,
    '',
    'The same tenant through the Microsoft Graph security API:',
    `  ${curl} -H 'X-API-Key: ${key}' '${d.url}/tenants/contoso/graph/v1.0/security/alerts_v2?$top=2'   # 200`,
    `  ${curl} -H 'X-API-Key: ${key}' -H 'Content-Type: application/json' -d '{"Query":"DeviceProcessEvents | take 3"}' '${d.url}/tenants/contoso/graph/v1.0/security/runHuntingQuery'   # 200: an advanced hunting query`,
    '',
    'The admin API and metrics:',
    `  ${admin} '${d.adminUrl}/admin/tenants/contoso'   # 200: configured vs granted permissions, token state`,
    `  ${admin} -X POST '${d.adminUrl}/admin/tenants/fabrikam/refresh'   # 200: a new token now`,
    `  curl -s '${d.adminUrl}/metrics' | grep '^defender_gateway_requests_total'   # 200`,
    '',
    'The CLI against the same config, from this folder (no build step):',
    `  npm run -s cli -- tenant-status contoso --config ${d.configFile}`,
    `  npm run -s cli -- tenant-status northwind --config ${d.configFile}   # exit 1: northwind has not consented yet`,
    `  npm run -s cli -- consent-url northwind --config ${d.configFile}   # the link to send to its admin`,
    `  npm run -s cli -- check-config ${d.configFile}`,
    '  npm run -s cli -- --help',
    '',
    'As an unmodified Defender connector (OAuth2 client credentials; login host and API host = the gateway):',
    `  TOKEN=$(${curl} -X POST -d grant_type=client_credentials -d client_id=${DEMO_CLIENT_ID} -d client_secret=${key} -d scope=https://api.securitycenter.microsoft.com/.default '${d.url}/contoso/oauth2/v2.0/token' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `  ${curl} -H "Authorization: Bearer $TOKEN" '${d.url}/api/alerts?$top=2'   # 200`,
    '',
    `contoso is ${CONTOSO}, fabrikam ${FABRIKAM}, northwind ${NORTHWIND}. Ctrl-C stops it.`,
    ''
  ]
}

/** The link the status page shows for a tenant, signed with the demo's onboarding key. */
function onboardingLink (d: DemoLinesInput, tenantId: string, name: string): string {
  const { exp, sig } = createOnboardingSigner(d.secrets.onboardingKey).link(tenantId, Date.now() + LINK_DAYS * 86_400_000)
  return `${d.url}/onboarding/${name}?exp=${exp}&sig=${sig}`
}
