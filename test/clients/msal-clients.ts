/**
 * Runs an unmodified Microsoft client library against the gateway as its authority, then pages
 * /api/alerts with the token it got. Started as a child process with NODE_EXTRA_CA_CERTS (read at
 * process start only) so both the library and fetch trust the test CA. Prints one JSON line.
 * Usage: msal-clients.ts msal-node|identity GATEWAY_URL TENANT CLIENT_ID, with the secret in env CLIENT_SECRET.
 */
import { ConfidentialClientApplication } from '@azure/msal-node'
import { ClientSecretCredential } from '@azure/identity'

const [kind, gateway, tenant, clientId] = process.argv.slice(2) as [string, string, string, string]
const secret = process.env.CLIENT_SECRET ?? ''
const scope = process.env.SCOPE ?? 'https://api.securitycenter.microsoft.com/.default'

async function token (): Promise<string> {
  if (kind === 'msal-node') {
    const app = new ConfidentialClientApplication({
      auth: { clientId, clientSecret: secret, authority: `${gateway}/${tenant}`, knownAuthorities: [new URL(gateway).host] }
    })
    const result = await app.acquireTokenByClientCredential({ scopes: [scope] })
    // A second call is answered from msal's cache: proves the expiry fields were understood.
    await app.acquireTokenByClientCredential({ scopes: [scope] })
    return result?.accessToken ?? ''
  }
  const credential = new ClientSecretCredential(tenant, clientId, secret, { authorityHost: gateway, disableInstanceDiscovery: true })
  const result = await credential.getToken(scope)
  await credential.getToken(scope)
  return result.token
}

async function main (): Promise<void> {
  const access = await token()
  let next: string | undefined = `${gateway}/api/alerts?$top=8`
  let items = 0
  let pages = 0
  while (next !== undefined) {
    const res = await fetch(next, { headers: { authorization: `Bearer ${access}` } })
    if (res.status !== 200) throw new Error(`page ${pages} answered ${res.status}: ${await res.text()}`)
    const body = await res.json() as { value: unknown[], '@odata.nextLink'?: string }
    items += body.value.length
    pages++
    next = body['@odata.nextLink']
  }
  process.stdout.write(`${JSON.stringify({ items, pages })}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`)
  process.exit(1)
})
