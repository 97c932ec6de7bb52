import { z } from 'zod'

/** An Entra object id (tenant, app). */
export const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID')
/** A TCP port; 0 picks a free one. */
export const port = z.number().int().min(0).max(65535)
/** A label used in logs, metrics and config references. */
export const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
const LOOPBACK = new Set(['localhost', '[::1]'])
/**
 * An absolute URL of one of `protocols`, one problem at most. Never with user info: a password there
 * would be shown wherever the URL is (logs, /admin/regions, pages); `userinfo: 'checked'` leaves that to
 * a section with its own message (redis). `upstream`: it carries bearer tokens, so plain http only to a
 * loopback host (a local TLS-originating sidecar, tests).
 */
export const url = (protocols: string[], opts: { userinfo?: 'checked', upstream?: boolean } = {}) => z.string().superRefine((value, ctx) => {
  const problem = urlProblem(value, protocols, opts)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

function urlProblem (value: string, protocols: string[], opts: { userinfo?: 'checked', upstream?: boolean }): string | undefined {
  let parsed: URL
  try { parsed = new URL(value) } catch { parsed = new URL('invalid:') }
  if (!protocols.includes(parsed.protocol)) return `must be an absolute ${protocols.join(' or ')} URL`
  if (opts.userinfo === undefined && (parsed.username !== '' || parsed.password !== '')) {
    return 'must not contain a user name or password (secrets go in {fromEnv} or {fromFile})'
  }
  const loopback = LOOPBACK.has(parsed.hostname.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(parsed.hostname)
  if (opts.upstream === true && parsed.protocol === 'http:' && !loopback) {
    return 'must be https (it carries bearer tokens); http only to a loopback host (127.0.0.1, ::1, localhost)'
  }
  return undefined
}

/** Secrets are references only, so a config file can be committed and shown without leaking anything. */
export const secretRefSchema = z.union([
  z.strictObject({ fromEnv: z.string().min(1) }),
  z.strictObject({ fromFile: z.string().min(1) })
], { error: 'must be {fromEnv: NAME} or {fromFile: PATH}; secrets are never written inline' })

/** A path to a file read at start (and on reload). */
export const fileRef = z.string().min(1)
