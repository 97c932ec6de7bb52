import type { IncomingMessage, ServerResponse } from 'node:http'
import { GUID_RE, readBody } from './http-util.js'

/** What the simulated admin-consent page does when the admin presses Accept (tests script the hostile cases). */
export interface ConsentScript {
  /** the grant lands in this tenant instead of the one in the URL (an admin signed in to another directory) */
  landIn?: string
  /** roles granted; default: the app's roles (setAppRoles) */
  roles?: string[]
}

/** The simulated admin-consent endpoint: controls for tests, and a request handler for entra.ts. */
export interface ConsentPages {
  /** answers `/{tenant}/adminconsent` and `/{tenant}/v2.0/adminconsent` (GET: the page, POST: the decision); false: not ours */
  handle (req: IncomingMessage, res: ServerResponse, tenant: string, rest: string, query: URLSearchParams): Promise<boolean>
  /** redirect URIs registered on the app; Entra redirects nowhere else */
  registerRedirectUri (uri: string): void
  /** the application permissions the app registration asks for */
  setAppRoles (roles: string[]): void
  /** what the next Accept does, per tenant in the URL */
  scriptConsent (tenant: string, script: ConsentScript | undefined): void
  /** consents recorded: the tenant the grant landed in, in order */
  consents (): string[]
}

/**
 * The admin-consent flow as Entra ID runs it: checks client_id and redirect_uri (no redirect when they are
 * wrong: an error page), shows what is asked with Accept / Cancel, then redirects back with
 * `admin_consent=True&tenant=...&state=...` or `error=access_denied&error_description=...&state=...`.
 * Accepting grants the roles, so the tenant's next token carries them.
 */
export function createConsentPages (clientId: string, grant: (tenant: string, roles: string[]) => void, appRoles: string[]): ConsentPages {
  const redirects = new Set<string>()
  const scripts = new Map<string, ConsentScript>()
  const landed: string[] = []
  let roles = [...appRoles]

  function refuse (res: ServerResponse, code: number, text: string): void {
    res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Sign in to your account</title><p>AADSTS${code}: ${escape(text)}</p>`)
  }

  function page (res: ServerResponse, tenant: string, params: URLSearchParams): void {
    const hidden = ['client_id', 'redirect_uri', 'state'].map((k) => `<input type="hidden" name="${k}" value="${escape(params.get(k) ?? '')}">`).join('')
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Permissions requested</title>
<h1>Permissions requested</h1><p>Accept for your organization (${escape(tenant)}): ${roles.map(escape).join(', ')}</p>
<form method="post">${hidden}<button name="decision" value="accept">Accept</button><button name="decision" value="cancel">Cancel</button></form>`)
  }

  function decide (res: ServerResponse, tenant: string, form: URLSearchParams): void {
    const back = new URL(form.get('redirect_uri') ?? '')
    const state = form.get('state')
    if (form.get('decision') === 'accept') {
      const script = scripts.get(tenant.toLowerCase()) ?? {}
      const target = (script.landIn ?? tenant).toLowerCase()
      grant(target, script.roles ?? roles)
      landed.push(target)
      back.searchParams.set('admin_consent', 'True')
      back.searchParams.set('tenant', target)
    } else {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.')
    }
    if (state !== null) back.searchParams.set('state', state)
    res.writeHead(302, { location: back.toString() }).end()
  }

  return {
    async handle (req, res, tenant, rest, query) {
      if (rest !== 'adminconsent' && rest !== 'v2.0/adminconsent') return false
      const params = req.method === 'POST' ? new URLSearchParams((await readBody(req, 64 * 1024)).body.toString('utf8')) : query
      if (!GUID_RE.test(tenant)) { refuse(res, 90002, `Tenant '${tenant}' not found.`); return true }
      if (params.get('client_id') !== clientId) { refuse(res, 700016, `Application with identifier '${params.get('client_id') ?? ''}' was not found.`); return true }
      if (!redirects.has(params.get('redirect_uri') ?? '')) { refuse(res, 50011, 'The redirect URI specified in the request does not match the redirect URIs configured for the application.'); return true }
      if (req.method === 'POST') decide(res, tenant, params)
      else page(res, tenant, params)
      return true
    },
    registerRedirectUri (uri) { redirects.add(uri) },
    setAppRoles (list) { roles = [...list] },
    scriptConsent (tenant, script) {
      if (script === undefined) scripts.delete(tenant.toLowerCase())
      else scripts.set(tenant.toLowerCase(), script)
    },
    consents: () => [...landed]
  }
}

function escape (value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
