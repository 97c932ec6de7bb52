import { bigAnswer } from '../test/sim/big-answer.js'
import { postForm } from '../test/sim/client.js'
import type { ScriptedAnswer } from '../test/sim/defender-reply.js'
import { startSimWorld } from '../test/sim/index.js'
import { announce, receiveInit } from './worker.js'

/** What the parent sends to start the simulated upstream. */
export interface UpstreamInit {
  readonly clientId: string
  readonly clientSecret: string
  readonly tenantId: string
  /** more tenants the simulated Entra issues tokens for (same roles) */
  readonly otherTenants?: readonly string[]
  readonly roles: readonly string[]
  /** how often the sim's request log and rate-limit windows are emptied (they grow per request) */
  readonly resetEveryMs: number
  /** records in the tenant's software inventory export (the big-response run streams them as one page) */
  readonly exportRecords?: number
}

/** The big-response run has one answer built (`big-answer`); the region sends it to every request between `big-answer-on` and `big-answer-off`. */
export interface BigAnswerAsk {
  readonly mb: number
  readonly coding: 'identity' | 'gzip'
}

/** What the region will send: bytes on the wire, and of the page once inflated. */
export interface BigAnswerReady {
  readonly wireBytes: number
  readonly bytes: number
}

/** What this process reports back once listening. */
export interface UpstreamReady {
  readonly type: 'ready'
  readonly regionName: string
  readonly regionUrl: string
  readonly entraUrl: string
  readonly caFile: string
  readonly caPem: string
  /** a real token from the simulated Entra, for the direct and nginx targets */
  readonly token: string
  /** a server certificate from the sim's CA, for the static upstream (bench/nginx.ts) */
  readonly staticCert: { readonly certPem: string, readonly keyPem: string }
}

const AUDIENCE = 'https://api.securitycenter.microsoft.com'
const REGION = 'eu'

async function main (): Promise<void> {
  const init = await receiveInit<UpstreamInit>()
  const sim = await startSimWorld({
    clientId: init.clientId,
    clientSecrets: [init.clientSecret],
    grants: Object.fromEntries([init.tenantId, ...(init.otherTenants ?? [])].map((t) => [t, [...init.roles]])),
    regions: [REGION],
    // Two alerts per tenant: `$top=1` still gets an @odata.nextLink (so the gateway rewrites it), while the
    // sim does not build 30 alerts per request on the CPU it shares with the load generator. Answers are
    // gzipped only when asked (the big-response run's gzip rows; the token request does not ask).
    defender: { ratePerMinute: 10_000_000, alertsPerTenant: 2, maxExportPage: 1_000_000, compress: true }
  })
  const region = sim.regions[REGION]!
  for (const t of [init.tenantId, ...(init.otherTenants ?? [])]) region.setExportCount(t, init.exportRecords ?? 1000)
  // The sim keeps every request (headers included) and a per-tenant list of hit times that it filters on
  // each request; emptying both often keeps its cost per request flat during long runs.
  const timer = setInterval(() => region.reset(), init.resetEveryMs)
  const res = await postForm(`${sim.entra.url}/${init.tenantId}/oauth2/v2.0/token`, sim.ca.certPem, {
    client_id: init.clientId,
    client_secret: init.clientSecret,
    scope: `${AUDIENCE}/.default`,
    grant_type: 'client_credentials'
  })
  if (res.status !== 200) throw new Error(`simulated Entra refused the bench token: ${res.status} ${res.text}`)
  const ready: Omit<UpstreamReady, 'type'> = {
    regionName: REGION,
    regionUrl: region.url,
    entraUrl: sim.entra.url,
    caFile: sim.caFile,
    caPem: sim.ca.certPem,
    token: res.json().access_token,
    staticCert: await sim.ca.issueServerCert()
  }
  // The big-response run's answer, sent to every request between big-answer-on and big-answer-off.
  let big: ScriptedAnswer | undefined
  announce(ready, async () => {
    clearInterval(timer)
    await sim.close()
  }, {
    'big-answer': (m) => {
      // The answer of test/integration/big-answers.test.ts: ~4:3 gzip or plain, 16 KiB per awaited write.
      const ask = m as unknown as BigAnswerAsk
      region.setFault(undefined)
      const answer = bigAnswer(ask.mb, region.url, region.url)
      const body = ask.coding === 'gzip' ? answer.gzipped : answer.plain
      const headers = { 'content-type': 'application/json; charset=utf-8', ...(ask.coding === 'gzip' ? { 'content-encoding': 'gzip' } : {}) }
      big = { kind: 'answer', headers, body, writeBytes: 16 * 1024 }
      return { wireBytes: body.length, bytes: answer.bytes }
    },
    'big-answer-on': () => { region.setFault(big); return {} },
    'big-answer-off': () => { region.setFault(undefined); return {} }
  })
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: String(err) })
  process.exitCode = 1
})
