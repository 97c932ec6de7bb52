import { GRAPH_ROUTES } from '../graph/catalogue-data.js'
import { ROUTES } from '../policy/catalogue-data.js'

/** What a body is refused for: 400 (JSON that does not parse) or 415 (not JSON where JSON is taken). */
export interface BodyRefusal { readonly code: 'BadRequest' | 'UnsupportedMediaType', readonly message: string }

/** Built-in routes whose body is not JSON: the library upload is multipart/form-data. */
const OTHER_BODIES = new Set(['POST /api/libraryfiles'])
const WRITES = new Set(['POST', 'PUT', 'PATCH'])
/**
 * The built-in routes that take a JSON body: every documented Defender and Graph POST/PATCH but the
 * library upload. Operators' `extraRoutes` are not judged on type (their bodies are theirs to know).
 */
const JSON_ROUTES: ReadonlySet<string> = new Set([...ROUTES, ...GRAPH_ROUTES]
  .filter((r) => WRITES.has(r.method) && !OTHER_BODIES.has(`${r.method} ${r.template}`))
  .map((r) => `${r.method} ${r.template}`))

/** Is `mediaType` (lower-cased, without parameters) JSON? */
function isJson (mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json')
}

/**
 * Judges a request body before it is forwarded: a body declared JSON must parse (on any route); on a
 * route that takes JSON a non-empty body must be JSON (untyped is read as JSON). Nothing else is looked at.
 */
export function bodyRefusal (route: { method: string, template: string } | undefined, contentType: string | undefined, body: Buffer): BodyRefusal | undefined {
  if (body.length === 0) return undefined
  const mediaType = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase()
  const takesJson = route !== undefined && JSON_ROUTES.has(`${route.method} ${route.template}`)
  if (mediaType !== '' && !isJson(mediaType)) {
    return takesJson ? { code: 'UnsupportedMediaType', message: `This route takes a JSON body (Content-Type: application/json), not ${mediaType.slice(0, 64)}; nothing was forwarded.` } : undefined
  }
  if (mediaType === '' && !takesJson) return undefined
  try {
    JSON.parse(body.toString('utf8'))
    return undefined
  } catch {
    return { code: 'BadRequest', message: 'The request body is not valid JSON; nothing was forwarded.' }
  }
}
