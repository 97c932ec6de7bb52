import type { ParsedConfig } from './schema.js'

/** What the cross-checks need to know about the rest of the system, passed in to keep this pure. */
export interface Vocabulary {
  /** canonical permission names (compared case-insensitively) */
  readonly permissions: readonly string[]
  /** region names valid for the configured cloud / overrides */
  readonly regions: readonly string[]
  /** Defender rate classes (catalogue) */
  readonly rateClasses: readonly string[]
  /** routes the built-in catalogue already has, as 'METHOD /lowercase/template' */
  readonly routeKeys: ReadonlySet<string>
}

/** Tenant names that are Entra authorities or gateway paths: a tenant by that name would be ambiguous. */
export const RESERVED_TENANT_NAMES = ['common', 'consumers', 'organizations', 'callback']

/**
 * Checks what a schema cannot (references between sections) and returns the config with tenant ids
 * lowercased, tenant names in client lists replaced by ids and permission names in canonical case.
 */
export function crossCheck (parsed: ParsedConfig, vocab: Vocabulary): { config: ParsedConfig, problems: string[] } {
  const problems: string[] = []
  const canonical = new Map(vocab.permissions.map((p) => [p.toLowerCase(), p]))
  const regionNames = new Set(vocab.regions)

  const permissions = (list: readonly string[], where: string): string[] => list.flatMap((p, i) => {
    const found = canonical.get(p.toLowerCase())
    if (found !== undefined) return [found]
    problems.push(`${where}[${i}]: unknown permission '${p}'; valid: ${vocab.permissions.join(', ')}`)
    return []
  })
  const regions = (list: readonly string[], where: string): void => list.forEach((r, i) => {
    if (!regionNames.has(r)) problems.push(`${where}[${i}]: unknown region '${r}'; known: ${vocab.regions.join(', ')}`)
  })

  const byKey = new Map<string, string>()
  const tenants = parsed.tenants.map((t, i) => {
    const id = t.id.toLowerCase()
    // These already mean something in the paths a tenant name goes into (/{tenant}/oauth2/..., /onboarding/{tenant}).
    if (t.name !== undefined && RESERVED_TENANT_NAMES.includes(t.name.toLowerCase())) {
      problems.push(`tenants[${i}].name: '${t.name.toLowerCase()}' is reserved (${RESERVED_TENANT_NAMES.join(', ')}); choose another name`)
    }
    for (const key of new Set([id, t.name?.toLowerCase()])) {
      if (key === undefined) continue
      if (byKey.has(key)) problems.push(`tenants[${i}]: '${key}' is used by another tenant`)
      byKey.set(key, id)
    }
    if (t.regions !== undefined) regions(t.regions, `tenants[${i}].regions`)
    return { ...t, id, permissions: permissions(t.permissions, `tenants[${i}].permissions`) }
  })

  const seenNames = new Set<string>()
  const seenKeys = new Set<string>()
  const clients = parsed.clients.map((c, i) => {
    if (seenNames.has(c.name.toLowerCase())) problems.push(`clients[${i}].name: '${c.name}' is used by another client`)
    seenNames.add(c.name.toLowerCase())
    const key = c.keySha256.toLowerCase()
    if (seenKeys.has(key)) problems.push(`clients[${i}].keySha256: the same key hash is used by another client`)
    seenKeys.add(key)
    const clientTenants = c.tenants.flatMap((ref, j) => {
      if (ref === '*') return ['*']
      const id = byKey.get(ref.toLowerCase())
      if (id !== undefined) return [id]
      problems.push(`clients[${i}].tenants[${j}]: unknown tenant '${ref}'`)
      return []
    })
    return { ...c, keySha256: key, tenants: clientTenants, permissions: permissions(c.permissions, `clients[${i}].permissions`) }
  })

  const seenRoutes = new Set(vocab.routeKeys)
  const extraRoutes = parsed.extraRoutes.map((r, i) => {
    const key = `${r.method} ${r.template.toLowerCase()}`
    if (seenRoutes.has(key)) problems.push(`extraRoutes[${i}]: ${r.method} ${r.template} is already in the catalogue`)
    seenRoutes.add(key)
    if (!vocab.rateClasses.includes(r.rateClass)) {
      problems.push(`extraRoutes[${i}].rateClass: unknown rate class '${r.rateClass}'; known: ${vocab.rateClasses.join(', ')}`)
    }
    return { ...r, permissions: permissions(r.permissions, `extraRoutes[${i}].permissions`), writes: r.writes ?? r.method !== 'GET' }
  })

  const region = parsed.upstream.region
  if (region !== 'auto' && !regionNames.has(region)) {
    problems.push(`upstream.region: unknown region '${region}'; use auto or one of: ${vocab.regions.join(', ')}`)
  }
  problems.push(...identityProblems(parsed.identity))
  return { config: { ...parsed, tenants, clients, extraRoutes }, problems }
}

/** Exactly one way to prove the app's identity, at the top or in each item of `credentials`. */
function identityProblems (identity: ParsedConfig['identity']): string[] {
  const { secret, certificate, assertionFile, credentials } = identity
  const given = [secret, certificate, assertionFile, credentials].filter((v) => v !== undefined).length
  if (assertionFile === undefined && credentials === undefined) {
    // The message operators of the two original forms already know.
    return given === 1 ? [] : ['identity: set exactly one of secret or certificate']
  }
  if (given !== 1) return ['identity: set exactly one of secret, certificate, assertionFile or credentials']
  const problems: string[] = []
  const names = new Set<string>()
  credentials?.forEach((c, i) => {
    const where = `identity.credentials[${i}]`
    const kinds = [c.secret, c.certificate, c.assertionFile].filter((v) => v !== undefined).length
    if (kinds !== 1) problems.push(`${where}: set exactly one of secret, certificate or assertionFile`)
    if (c.expiresOn !== undefined && c.secret === undefined) problems.push(`${where}.expiresOn: only for a secret (a certificate carries its own expiry)`)
    if (c.name !== undefined && names.has(c.name.toLowerCase())) problems.push(`${where}.name: '${c.name}' is used by another credential`)
    if (c.name !== undefined) names.add(c.name.toLowerCase())
  })
  return problems
}
