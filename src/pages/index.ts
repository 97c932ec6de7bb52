import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Counter, Registry } from 'prom-client'
import type { LoadedConfig } from '../config/load.js'
import type { ClientConfig, TenantConfig } from '../config/schema.js'
import type { RateBudgets } from '../limits/types.js'
import type { PolicyHolder } from '../pipeline/policy-state.js'
import type { RegionDirectory } from '../regions/directory.js'
import type { TokenProvider } from '../tokens/types.js'
import { registerOnboarding } from './onboarding/routes.js'
import { createOnboardingSigner, type OnboardingSigner } from './onboarding/signing.js'
import { registerStatusPages } from './status/routes.js'
import { createStatusSessions } from './status/session.js'

/** What the pages read from the rest of the gateway (all of it already computed elsewhere). */
export interface PagesDeps {
  readonly loaded: LoadedConfig
  readonly policy: PolicyHolder
  readonly tokens: TokenProvider
  /** the same app's Microsoft Graph tokens: the pages show and refresh each API's own token */
  readonly graphTokens: TokenProvider
  readonly budgets: RateBudgets
  readonly regions: RegionDirectory
  /** the config in force (replaced on reload) */
  current (): { readonly tenants: readonly TenantConfig[], readonly clients: readonly ClientConfig[] }
  consentUrl (tenantId: string): string
  /** the public base URL for a request on the API listener */
  publicBase (request: FastifyRequest): string
  /** the public base URL without a request (server.publicUrl, else the API listener's own address) */
  publicOrigin (): string
  /** gateway tokens issued, when the token endpoint is on */
  readonly oauthIssued?: Counter<'client' | 'version'>
  /** the admin listener's registry: status sign-in refusals are counted there */
  readonly registry?: Registry
  /** a cluster's worker: its cluster primary limits sign-in guessing (the worker sees only the primary's address) */
  readonly clusterWorker?: boolean
  readonly now: () => number
}

/** The onboarding and status pages: `registerOnboarding` on the API listener, `status` for the admin listener. */
export interface Pages {
  registerOnboarding (app: FastifyInstance): Promise<void>
  /** registers /status/* on the admin listener; undefined without admin.token (the pages do not exist) */
  readonly status: ((admin: FastifyInstance) => Promise<void>) | undefined
}

/** Builds the pages for a config: onboarding only with an `onboarding` section, status only with an admin token. */
export function createPages (deps: PagesDeps): Pages {
  const { config, secrets } = deps.loaded
  const onboarding = config.onboarding
  const signer: OnboardingSigner | undefined = onboarding !== undefined && secrets.onboardingKey !== undefined ? createOnboardingSigner(secrets.onboardingKey.reveal()) : undefined
  const tenantName = (id: string): string | undefined => deps.current().tenants.find((t) => t.id === id)?.name
  const onboardingUrl = (tenantId: string): string | undefined => {
    if (signer === undefined || onboarding === undefined) return undefined
    const { exp, sig } = signer.link(tenantId, deps.now() + onboarding.linkLifetimeDays * 86_400_000)
    // The name reads better in a mail; a tenant named `callback` would meet the callback's own path.
    const name = tenantName(tenantId)
    const ref = name !== undefined && name.toLowerCase() !== 'callback' ? name : tenantId
    return `${deps.publicOrigin()}/onboarding/${encodeURIComponent(ref)}?exp=${exp}&sig=${sig}`
  }
  const adminToken = secrets.adminToken
  const apiTokens = { defender: deps.tokens, graph: deps.graphTokens }
  return {
    async registerOnboarding (app) {
      if (signer === undefined || onboarding === undefined) return
      await registerOnboarding(app, { config: onboarding, signer, policy: deps.policy, tokens: apiTokens, consentUrl: deps.consentUrl, publicBase: deps.publicBase, tenantName, now: deps.now })
    },
    status: adminToken === undefined
      ? undefined
      : async (admin) => {
        await registerStatusPages(admin, {
          sessions: createStatusSessions(adminToken.reveal(), config.admin.sessionMinutes),
          sources: {
            current: deps.current,
            routes: () => deps.policy.current.routes,
            tokenStatus: (id, api) => apiTokens[api].status(id),
            usage: (id) => deps.budgets.usage(id),
            region: (_id, allowed) => deps.regions.rank(allowed)[0]?.name,
            consentUrl: deps.consentUrl,
            onboardingUrl,
            now: deps.now
          },
          // Each API the tenant uses, at once; a failure is recorded by its provider and shown as its last error.
          refresh: async (id, apis, requestId) => { await Promise.allSettled(apis.map(async (api) => await apiTokens[api].refresh(id, requestId))) },
          regions: () => ({ configured: config.upstream.region, regions: deps.regions.snapshot() }),
          tokensIssued: () => deps.oauthIssued === undefined ? undefined : issuedByClient(deps.oauthIssued),
          ...(deps.registry === undefined ? {} : { registry: deps.registry }),
          now: deps.now,
          limitSignIn: deps.clusterWorker !== true
        })
      }
  }
}

async function issuedByClient (counter: Counter<'client' | 'version'>): Promise<ReadonlyMap<string, number>> {
  const byClient = new Map<string, number>()
  for (const v of (await counter.get()).values) {
    const client = String(v.labels.client ?? '')
    byClient.set(client, (byClient.get(client) ?? 0) + v.value)
  }
  return byClient
}
