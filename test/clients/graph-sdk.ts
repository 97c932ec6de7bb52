/**
 * Runs the official Microsoft Graph JavaScript client, unmodified, against the gateway: pages every
 * alerts_v2 item of a tenant with its PageIterator, then runs a hunting query. Started as a child with
 * NODE_EXTRA_CA_CERTS (read at process start only) so its fetch trusts the test CA. Prints one JSON line.
 * Usage: graph-sdk.ts key GATEWAY_URL TENANT           (API key as the bearer, env CLIENT_SECRET)
 *        graph-sdk.ts dropin GATEWAY_URL TENANT CLIENT_ID (@azure/identity against the gateway's token endpoint)
 */
import { ClientSecretCredential } from '@azure/identity'
import { Client, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client'
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js'

const [mode, gateway, tenant, clientId] = process.argv.slice(2) as [string, string, string, string | undefined]
const secret = process.env.CLIENT_SECRET ?? ''
// The SDK sends credentials only to Graph's own hosts or to hosts the application names.
const customHosts = new Set([new URL(gateway).hostname])

function client (): Client {
  if (mode === 'key') {
    return Client.init({ baseUrl: `${gateway}/tenants/${tenant}/graph`, customHosts, authProvider: (done) => { done(null, secret) } })
  }
  const credential = new ClientSecretCredential(tenant, clientId ?? '', secret, { authorityHost: gateway, disableInstanceDiscovery: true })
  const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: ['https://graph.microsoft.com/.default'] })
  return Client.initWithMiddleware({ baseUrl: gateway, customHosts, authProvider })
}

async function main (): Promise<void> {
  const graph = client()
  const ids: string[] = []
  const first = await graph.api('/security/alerts_v2').top(25).get() as PageCollection
  const iterator = new PageIterator(graph, first, (alert: { id: string }) => { ids.push(alert.id); return true })
  await iterator.iterate()
  const hunting = await graph.api('/security/runHuntingQuery').post({ Query: 'DeviceProcessEvents | take 7' }) as { results: unknown[], schema: unknown[] }
  process.stdout.write(`${JSON.stringify({ items: ids.length, unique: new Set(ids).size, huntingRows: hunting.results.length, columns: hunting.schema.length })}\n`)
}

main().catch((err: unknown) => {
  const e = err as { statusCode?: number, code?: string, message?: string }
  process.stderr.write(`${String(e.statusCode ?? '')} ${String(e.code ?? '')}: ${e.message ?? String(err)}\n`)
  process.exit(1)
})
