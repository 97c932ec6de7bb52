import view from '@fastify/view'
import { Eta } from 'eta'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { LAYOUT } from './views/layout.js'
import { MESSAGE, ONBOARDING, ONBOARDING_RESULT } from './views/onboarding-views.js'
import { CLIENTS, REGIONS, SIGN_IN, TAG_LIST, TENANT, TENANTS } from './views/status-views.js'

/** Template names reply.view takes (the `.eta` suffix is how @fastify/view names a template). */
export const PAGES = {
  onboarding: '@onboarding.eta',
  onboardingResult: '@onboarding-result.eta',
  message: '@message.eta',
  signIn: '@sign-in.eta',
  tenants: '@tenants.eta',
  tenant: '@tenant.eta',
  clients: '@clients.eta',
  regions: '@regions.eta'
} as const

/**
 * Registers @fastify/view with an Eta instance holding every template in memory (compiled once; the
 * build needs no copy step). Auto-escaping is on: every value from config, Defender or Entra ID is
 * HTML-escaped unless a template says `<%~`, which only the layout does, for the page it wraps.
 */
export async function registerViews (scope: FastifyInstance): Promise<void> {
  const eta = new Eta({ autoEscape: true, autoTrim: false, cache: true })
  eta.loadTemplate('@layout', LAYOUT)
  eta.loadTemplate('@tags', TAG_LIST)
  const templates: Record<string, string> = {
    [PAGES.onboarding]: ONBOARDING,
    [PAGES.onboardingResult]: ONBOARDING_RESULT,
    [PAGES.message]: MESSAGE,
    [PAGES.signIn]: SIGN_IN,
    [PAGES.tenants]: TENANTS,
    [PAGES.tenant]: TENANT,
    [PAGES.clients]: CLIENTS,
    [PAGES.regions]: REGIONS
  }
  for (const [name, text] of Object.entries(templates)) eta.loadTemplate(name, text)
  await scope.register(view, { engine: { eta }, production: true })
  scope.addHook('onSend', async function pageHeaders (_request, reply, payload) {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) pageSecurityHeaders(reply)
    return payload
  })
}

/**
 * No script runs on these pages, nothing frames them, no link leaks the signed URL through Referer,
 * and nothing is cached (they show live state and carry CSRF tokens).
 */
export function pageSecurityHeaders (reply: FastifyReply): void {
  reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
  reply.header('x-frame-options', 'DENY')
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'no-referrer')
  reply.header('cache-control', 'no-store')
}
