import type { Test } from 'tap'
import { rawRequest, type RawAnswer } from './raw-http.js'

/** One way of writing an admin route's target, and the route it is meant to reach. */
export interface Spelling {
  readonly method: 'GET' | 'HEAD' | 'POST'
  readonly target: string
}

/** The admin routes, written plainly: `tenant` is a configured tenant's name. */
function plain (tenant: string): Spelling[] {
  return [
    { method: 'GET', target: '/admin/regions' },
    { method: 'HEAD', target: '/admin/regions' },
    { method: 'GET', target: `/admin/tenants/${tenant}` },
    { method: 'POST', target: `/admin/tenants/${tenant}/refresh` }
  ]
}

/**
 * Ways of writing a path that a router, a proxy or a server might read as the plain one: encodings,
 * case, slashes, dot segments, parameters, query tricks, absolute form. `host` is the listener's.
 */
function variants (path: string, host: string): string[] {
  const rest = path.slice('/admin'.length)
  const last = path.lastIndexOf('/')
  const [head, tail] = [path.slice(0, last), path.slice(last + 1)]
  return [
    path,
    `/%61dmin${rest}`,
    `/adm%69n${rest}`,
    `/%61%64%6d%69%6e${rest}`,
    `/%41DMIN${rest}`,
    `/ADMIN${rest}`,
    `/Admin${rest}`,
    `${head}/%${tail.charCodeAt(0).toString(16)}${tail.slice(1)}`,
    `/%2Fadmin${rest}`,
    `%2Fadmin${rest}`,
    `/admin%2F${rest.slice(1)}`,
    `/admin%2f${rest.slice(1)}`,
    `//admin${rest}`,
    `/admin/${rest}`,
    `/./admin${rest}`,
    `/%2e/admin${rest}`,
    `/%2E%2E/admin${rest}`,
    `/x/../admin${rest}`,
    `/x/%2e%2e/admin${rest}`,
    `/admin/.${rest}`,
    `${path}/`,
    `${path}/.`,
    `${path}//`,
    `/admin;x=1${rest}`,
    `${path};x=1`,
    `${path};`,
    `${path}?`,
    `${path}?x=1`,
    `${path}?/../../metrics`,
    `${path}%3F`,
    `${path}%23`,
    `${path}%00`,
    `${path}%20`,
    `/admin\\${rest.slice(1)}`,
    `http://${host}${path}`,
    `HTTP://${host.toUpperCase()}/%61dmin${rest}`,
    `http://evil.example${path}`,
    `http://${host}/./admin${rest}`,
    `*${path}`
  ]
}

/** Every spelling of every admin route. */
export function spellings (host: string, tenant: string): Spelling[] {
  return plain(tenant).flatMap(({ method, target }) => variants(target, host).map((t) => ({ method, target: t })))
}

/** Sends every spelling with the given headers; answers in the same order. */
export async function sendAll (base: string, list: readonly Spelling[], headers: Record<string, string>): Promise<RawAnswer[]> {
  const answers: RawAnswer[] = []
  for (const s of list) answers.push(await rawRequest(base, s.method, s.target, headers))
  return answers
}

/** A refusal: a 4xx, or the connection closed without an answer (the HTTP parser refused the line). */
export function refused (answer: RawAnswer): boolean {
  return answer.status === 0 || (answer.status >= 400 && answer.status < 500)
}

/**
 * The property the admin API must keep, checked spelling by spelling: without the right token nothing
 * is served; with it, a spelling is either served or refused, and one that is served with the token is
 * refused with 401 without it (the check ran on the route the router matched).
 */
export function checkSpellings (t: Test, list: readonly Spelling[], without: readonly RawAnswer[], wrong: readonly RawAnswer[], right: readonly RawAnswer[]): void {
  const leaks: string[] = []
  const inconsistent: string[] = []
  list.forEach((s, i) => {
    const [a, b, c] = [without[i]!, wrong[i]!, right[i]!]
    if (!refused(a) || !refused(b)) leaks.push(`${s.method} ${s.target}: ${a.status} without a token, ${b.status} with a wrong one`)
    if (c.status === 200 && (a.status !== 401 || b.status !== 401)) inconsistent.push(`${s.method} ${s.target}`)
    if (c.status !== 200 && !refused(c)) inconsistent.push(`${s.method} ${s.target}: ${c.status} with the token`)
  })
  t.same(leaks, [], `none of ${list.length} spellings is served without the admin token`)
  t.same(inconsistent, [], 'every spelling served with the token is refused with 401 without it')
}
