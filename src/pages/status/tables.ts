import type { ClientConfig } from '../../config/schema.js'
import type { TenantRow } from './model.js'

/** Counts for the line above the tenants table. */
export function summarise (rows: readonly TenantRow[]): { ok: number, missing: number, failing: number, none: number } {
  const out = { ok: 0, missing: 0, failing: 0, none: 0 }
  for (const r of rows) {
    if (r.tokenState === 'none') out.none++
    else if (r.tokenState === 'refused' || r.tokenState === 'failing') out.failing++
    else if (r.apis.some((a) => a.missing.length > 0)) out.missing++
    else out.ok++
  }
  return out
}

/** The clients page's rows: never a key, only the start of its configured SHA-256. */
export function clientRows (clients: readonly ClientConfig[], issued: ReadonlyMap<string, number> | undefined): Array<{ name: string, clientId?: string, tenants: string[], permissions: string[], fingerprint: string, issued: number }> {
  return clients.map((c) => ({
    name: c.name,
    clientId: c.clientId,
    tenants: [...c.tenants],
    permissions: [...c.permissions],
    fingerprint: `sha256:${c.keySha256.slice(0, 16).toLowerCase()}…`,
    issued: issued?.get(c.name) ?? 0
  }))
}
