import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { OnboardingConfig } from '../../config/schema.js'
import type { PolicyHolder } from '../../pipeline/policy-state.js'
import type { ApiTokens } from '../../graph/consent.js'
import { PAGES, registerViews } from '../view.js'
import { tenantApis } from '../permissions.js'
import { readConsentCallback } from './callback.js'
import { consentResultPage } from './result.js'
import type { OnboardingSigner } from './signing.js'

export interface OnboardingOptions {
  readonly config: OnboardingConfig
  readonly signer: OnboardingSigner
  readonly policy: PolicyHolder
  /** each API's token provider: a consent is checked with a new token of every API the tenant uses */
  readonly tokens: ApiTokens
  /** the admin-consent URL of the configured cloud for a tenant, without redirect_uri and state */
  consentUrl (tenantId: string): string
  /** the public base URL as a request reached it (server.publicUrl, else the listener's own address) */
  publicBase (request: FastifyRequest): string
  /** names by lowercase tenant id, for the page's heading */
  tenantName (tenantId: string): string | undefined
  readonly now: () => number
}

interface LinkRoute { Params: { tenant: string }, Querystring: { exp?: unknown, sig?: unknown } }

/**
 * `/onboarding/{tenant}?exp&sig`: the page a customer's admin opens (what is asked, in words) and
 * `/onboarding/callback`: where Microsoft's admin consent sends them back. A link that is not signed
 * for that tenant, has expired or names no configured tenant gets the same 404, so nobody can list
 * tenants or read a tenant's page without its link.
 */
export async function registerOnboarding (app: FastifyInstance, options: OnboardingOptions): Promise<void> {
  // Nonces of states already used, until they would have expired anyway (per process; see README).
  const used = new LRUCache<string, true>({ max: 100_000, ttl: options.config.stateLifetimeMinutes * 60_000, ttlAutopurge: false })
  const firstUse = (nonce: string): boolean => {
    if (used.has(nonce)) return false
    used.set(nonce, true)
    return true
  }
  await app.register(async function onboardingPages (scope) {
    await registerViews(scope)
    scope.get<LinkRoute>('/onboarding/:tenant', async function onboardingPage (request, reply) {
      const tenant = options.policy.current.tenants.get(request.params.tenant.toLowerCase())
      // A parameter sent twice arrives as an array: not a link we made.
      const exp = typeof request.query.exp === 'string' ? request.query.exp : ''
      const sig = typeof request.query.sig === 'string' ? request.query.sig : ''
      if (tenant === undefined || !options.signer.linkValid(tenant.id, exp, sig, options.now())) return await notFound(reply)
      const state = options.signer.state(tenant.id, options.now() + options.config.stateLifetimeMinutes * 60_000)
      const consent = new URL(options.consentUrl(tenant.id))
      consent.searchParams.set('redirect_uri', redirectUri(options, request))
      consent.searchParams.set('state', state)
      return await reply.view(PAGES.onboarding, {
        title: 'Connect your organization',
        tenantLabel: options.tenantName(tenant.id) ?? 'your organization',
        tenantId: tenant.id,
        apis: tenantApis(tenant.permissions),
        consentUrl: consent.toString(),
        linkExpires: new Date(Number(exp) * 1000).toUTCString(),
        stateMinutes: options.config.stateLifetimeMinutes
      })
    })
    scope.get<{ Querystring: Record<string, unknown> }>('/onboarding/callback', async function consentCallback (request, reply) {
      const outcome = readConsentCallback(request.query, {
        signer: options.signer,
        now: options.now(),
        isConfigured: (id) => options.policy.current.tenants.get(id)?.id === id,
        firstUse
      })
      request.log.info({ event: 'onboarding_callback', outcome: outcome.kind, reason: outcome.kind === 'bad-state' ? outcome.reason : undefined, tenant: 'tenantId' in outcome ? outcome.tenantId : undefined }, 'onboarding callback')
      const page = await consentResultPage(outcome, { policy: options.policy, tokens: options.tokens, requestId: request.id })
      return await reply.code(page.status).view(PAGES.onboardingResult, { title: 'Onboarding', ...page.view })
    })
  })
}

/** The redirect URI sent to Entra ID: configured, or derived like every other link (never from Host). */
export function redirectUri (options: Pick<OnboardingOptions, 'config' | 'publicBase'>, request: FastifyRequest): string {
  return options.config.redirectUri ?? `${options.publicBase(request)}/onboarding/callback`
}

async function notFound (reply: FastifyReply): Promise<FastifyReply> {
  return await reply.code(404).view(PAGES.message, {
    title: 'Link not valid',
    heading: 'This onboarding link is not valid',
    message: 'The link is incomplete, has expired or was changed. Ask your security provider for a new link.'
  })
}
