import { clientSchema, configSchema, tenantSchema, type ParsedConfig } from './schema.js'

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Best-effort reading of a config that failed the schema, so the cross-checks can still run and an
 * operator sees every problem in one pass: valid sections as parsed, invalid ones at their defaults,
 * invalid tenants kept by id and name only (so clients naming them are not reported twice).
 */
export function lenientParse (raw: unknown): { config: ParsedConfig, identityValid: boolean } {
  const obj = isRecord(raw) ? raw : {}
  const out: Record<string, unknown> = {}
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    const parsed = schema.safeParse(obj[key])
    out[key] = parsed.success ? parsed.data : schema.safeParse(undefined).data
  }
  const identityValid = out.identity !== undefined
  if (!identityValid) out.identity = { clientId: '' }
  out.tenants = (Array.isArray(obj.tenants) ? obj.tenants : []).flatMap((item: unknown) => {
    const parsed = tenantSchema.safeParse(item)
    if (parsed.success) return [parsed.data]
    if (!isRecord(item) || typeof item.id !== 'string') return []
    return [{ id: item.id, name: typeof item.name === 'string' ? item.name : undefined, permissions: [] }]
  })
  out.clients = (Array.isArray(obj.clients) ? obj.clients : []).flatMap((item: unknown) => {
    const parsed = clientSchema.safeParse(item)
    return parsed.success ? [parsed.data] : []
  })
  return { config: out as ParsedConfig, identityValid }
}
