import { pino } from 'pino'
import { createMetrics } from '../observability/metrics.js'
import { createGatewayTokens } from '../tokens/wiring.js'
import { TokenError } from '../tokens/types.js'
import { VERSION } from '../version.js'
import { consentLink } from '../regions/clouds.js'
import { load, resolveTenant, type Env, type Output } from './commands.js'

/**
 * `tenant-status TENANT`: acquires a token for the tenant with the configured app credential and
 * prints which configured permissions the tenant has actually granted, so consent gaps show before
 * a client hits them.
 */
export async function tenantStatus (tenant: string | undefined, file: string, env: Env, io: Output): Promise<number> {
  if (tenant === undefined) {
    io.err('usage: defender-gateway tenant-status TENANT [--config FILE]')
    return 2
  }
  const loaded = load(file, env, io)
  if (loaded === undefined) return 1
  const id = resolveTenant(loaded, tenant, io)
  if (id === undefined) return 1
  const configured = loaded.config.tenants.find((t) => t.id === id)
  const { tokens } = createGatewayTokens({ loaded, metrics: createMetrics(VERSION), logger: pino({ level: 'silent' }) })
  const consent = consentLink(loaded.config, id)
  try {
    const token = await tokens.get(id, `tenant-status-${Date.now()}`)
    const permissions = configured?.permissions ?? []
    const granted = permissions.filter((p) => token.roles.has(p.toLowerCase()))
    const missing = permissions.filter((p) => !token.roles.has(p.toLowerCase()))
    io.out(`tenant ${id}${configured?.name === undefined ? '' : ` (${configured.name})`}: token ok, expires ${new Date(token.expiresOn).toISOString()}`)
    io.out(`  configured: ${permissions.join(', ') || '(none)'}`)
    io.out(`  granted:    ${granted.join(', ') || '(none)'}`)
    io.out(`  missing:    ${missing.join(', ') || '(none)'}`)
    io.out(`  roles in token: ${[...token.roles].sort().join(', ') || '(none)'}`)
    if (missing.length > 0) io.out(`  grant the missing permissions at ${consent}`)
    return missing.length > 0 ? 3 : 0
  } catch (err) {
    const kind = err instanceof TokenError ? err.kind : 'error'
    io.err(`tenant ${id}: no token (${kind}): ${err instanceof Error ? err.message : String(err)}`)
    if (kind === 'not-onboarded') io.err(`  a tenant admin can consent at ${consent}`)
    return 1
  } finally {
    tokens.close()
  }
}
