import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { ApiKey } from '../../graph/consent.js'
import { tenantApiKeys } from '../permissions.js'
import { PAGES, registerViews } from '../view.js'
import { clientsForTenant, tenantRow, type StatusSources } from './model.js'
import { SESSION_COOKIE, type StatusSessions } from './session.js'
import { createSignInLimit } from './sign-in-limit.js'
import { clientRows, summarise } from './tables.js'

export interface StatusPageOptions {
  readonly sessions: StatusSessions
  readonly sources: StatusSources
  /** a new token for each of the tenant's APIs now (the admin API's forced refresh: cool-down, tid and aud checks) */
  refresh (tenantId: string, apis: readonly ApiKey[], requestId: string): Promise<void>
  regions (): { configured: string, regions: ReadonlyArray<{ name: string, url: string, rttMs: number | null, available: boolean, failures: number, downUntil: string | null }> }
  /** gateway tokens issued per client, when the OAuth2 token endpoint is on */
  tokensIssued (): Promise<ReadonlyMap<string, number>> | undefined
  /** where the sign-in refusal counter is registered (none: counted, not exported) */
  readonly registry?: Registry
  /** ms since the epoch, for the sign-in guessing windows; injectable */
  readonly now?: () => number
  /** false in a cluster's worker: the primary forwards every sign-in from its own address and limits them itself */
  readonly limitSignIn?: boolean
}

type Form = { Body: Record<string, unknown> | undefined }

/**
 * `/status/*` on the admin listener: sign-in with the admin token into a signed, HttpOnly,
 * SameSite=Strict session cookie (Secure when the request came over TLS), then the tenants, tenant,
 * clients and regions pages. Every POST carries a CSRF token (@fastify/csrf-protection).
 */
export async function registerStatusPages (admin: FastifyInstance, options: StatusPageOptions): Promise<void> {
  const { sessions } = options
  await admin.register(async function statusPages (scope) {
    await scope.register(cookie, { secret: sessions.cookieSecret })
    await scope.register(formbody, { bodyLimit: 16 * 1024 })
    await scope.register(csrf, { sessionPlugin: '@fastify/cookie', cookieOpts: { path: '/status', sameSite: 'strict', httpOnly: true, signed: true, secure: 'auto' } })
    await registerViews(scope)
    scope.setErrorHandler(async function statusError (error: Error & { statusCode?: number, code?: string }, request, reply) {
      const csrfFailure = error.code?.startsWith('FST_CSRF') === true
      const status = csrfFailure ? 403 : (error.statusCode ?? 500)
      // The caller's mistakes (a body that does not parse, too big) are theirs: a 4xx page, not an error line.
      if (status >= 500) request.log.error({ err: error }, 'status page failed')
      return await reply.code(status).view(PAGES.message, {
        title: 'Refused',
        heading: csrfFailure ? 'Form refused' : (status < 500 ? 'Request refused' : 'Something went wrong'),
        message: csrfFailure ? 'This form did not come from a page of this gateway (missing or stale CSRF token). Reload the page and try again.' : (status < 500 ? 'The request was not well formed.' : 'The page could not be shown; the gateway logged why.')
      })
    })
    const signInPage = async (reply: FastifyReply, error?: string): Promise<FastifyReply> =>
      await reply.view(PAGES.signIn, { title: 'Sign in', csrf: reply.generateCsrf(), minutes: Math.round(sessions.open().maxAgeSeconds / 60), error })

    scope.get('/status/sign-in', async function signIn (_request, reply) { return await signInPage(reply) })
    const limit = createSignInLimit(options.registry, options.now)
    scope.post<Form>('/status/sign-in', { preHandler: scope.csrfProtection }, async function signInPost (request, reply) {
      const address = request.socket.remoteAddress ?? 'unknown'
      const wait = options.limitSignIn === false ? undefined : limit.blockedFor(address)
      if (wait !== undefined) {
        limit.refused('too_many_failures')
        return await signInPage(reply.code(429).header('retry-after', String(wait)), `Too many wrong tokens from your address; try again in ${Math.ceil(wait / 60)} minutes.`)
      }
      // A field sent twice (an array) or as JSON that is not text: a clear 400, not a crash.
      const token = request.body?.token
      if (token !== undefined && typeof token !== 'string') {
        limit.refused('malformed')
        return await signInPage(reply.code(400), 'The form was not well formed: send the admin token once, as text.')
      }
      if (!sessions.tokenMatches(token ?? '')) {
        limit.fail(address)
        limit.refused('wrong_token')
        request.log.warn({ event: 'status_sign_in', outcome: 'refused' }, 'status pages: wrong admin token')
        return await signInPage(reply.code(401), 'That is not the admin token.')
      }
      const session = sessions.open()
      reply.setCookie(SESSION_COOKIE, session.value, { path: '/status', httpOnly: true, sameSite: 'strict', secure: 'auto', signed: true, maxAge: session.maxAgeSeconds })
      request.log.info({ event: 'status_sign_in', outcome: 'ok' }, 'status pages: signed in')
      return await reply.code(303).redirect('/status')
    })
    scope.post('/status/sign-out', { preHandler: scope.csrfProtection }, async function signOut (request, reply) {
      const value = sessionOf(request, reply)
      if (value !== undefined) sessions.close(value)
      reply.clearCookie(SESSION_COOKIE, { path: '/status' })
      return await reply.code(303).redirect('/status/sign-in')
    })
    await scope.register(async function signedIn (pages) {
      pages.addHook('onRequest', async function requireSession (request, reply) {
        const value = sessionOf(request, reply)
        if (value !== undefined && sessions.valid(value)) return
        await reply.code(303).redirect('/status/sign-in')
      })
      registerSignedInPages(pages, options)
    })
  })
}

function registerSignedInPages (pages: FastifyInstance, options: StatusPageOptions): void {
  const { sources } = options
  const findTenant = (ref: string) => {
    const lower = ref.toLowerCase()
    return sources.current().tenants.find((t) => t.id === lower || t.name?.toLowerCase() === lower)
  }
  pages.get('/status', async function tenantsPage (_request, reply) {
    const rows = [...sources.current().tenants].sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id)).map((t) => tenantRow(t, sources))
    return await reply.view(PAGES.tenants, { title: 'Tenants', nav: true, csrf: reply.generateCsrf(), rows, summary: summarise(rows) })
  })
  pages.get<{ Params: { tenant: string }, Querystring: { refreshed?: string } }>('/status/tenants/:tenant', async function tenantPage (request, reply) {
    const tenant = findTenant(request.params.tenant)
    if (tenant === undefined) return await reply.code(404).view(PAGES.message, { title: 'Not found', nav: true, csrf: reply.generateCsrf(), heading: 'No such tenant', message: `'${request.params.tenant}' is not in the config.` })
    const row = tenantRow(tenant, sources)
    const refreshed = request.query.refreshed
    const notice = refreshed === undefined ? undefined : (row.tokenState === 'ok' ? 'Tokens refreshed.' : 'The refresh did not get a token for every API; see the last errors.')
    return await reply.view(PAGES.tenant, { title: row.name || row.id, nav: true, csrf: reply.generateCsrf(), row, clients: clientsForTenant(tenant, sources), notice, noticeOk: row.tokenState === 'ok' })
  })
  pages.post<{ Params: { tenant: string } }>('/status/tenants/:tenant/refresh', { preHandler: pages.csrfProtection }, async function refreshTenant (request, reply) {
    const tenant = findTenant(request.params.tenant)
    if (tenant === undefined) return await reply.code(404).view(PAGES.message, { title: 'Not found', nav: true, csrf: reply.generateCsrf(), heading: 'No such tenant', message: `'${request.params.tenant}' is not in the config.` })
    await options.refresh(tenant.id, tenantApiKeys(tenant.permissions), request.id)
    request.log.info({ event: 'status_refresh', tenant: tenant.id }, 'token refresh asked on the status page')
    return await reply.code(303).redirect(`/status/tenants/${tenant.id}?refreshed=1`)
  })
  pages.get('/status/clients', async function clientsPage (_request, reply) {
    const issued = await options.tokensIssued()
    return await reply.view(PAGES.clients, { title: 'Clients', nav: true, csrf: reply.generateCsrf(), oauth: issued !== undefined, clients: clientRows(sources.current().clients, issued) })
  })
  pages.get('/status/regions', async function regionsPage (_request, reply) {
    return await reply.view(PAGES.regions, { title: 'Regions', nav: true, csrf: reply.generateCsrf(), ...options.regions() })
  })
}

function sessionOf (request: FastifyRequest, reply: FastifyReply): string | undefined {
  const raw = request.cookies[SESSION_COOKIE]
  if (raw === undefined) return undefined
  const unsigned = reply.unsignCookie(raw)
  return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined
}
