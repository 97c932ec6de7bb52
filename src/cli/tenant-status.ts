import { pino } from 'pino'
import { createMetrics } from '../observability/metrics.js'
import { createGatewayTokens } from '../tokens/wiring.js'
import { consentByApi, type ApiConsent } from '../graph/consent.js'
import { VERSION } from '../version.js'
import { consentLink } from '../regions/clouds.js'
import { load, resolveTenant, type Env, type Output } from './commands.js'

/**
 * `tenant-status TENANT`: acquires the tenant's token of each API (Defender, Microsoft Graph) with the
 * configured app credential and prints which configured permissions the tenant has actually granted,
 * per API, so consent gaps show before a client hits them. Exit 3: something is missing; 1: no token.
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
  const { tokens, graphTokens } = createGatewayTokens({ loaded, metrics: createMetrics(VERSION), logger: pino({ level: 'silent' }) })
  const consent = consentLink(loaded.config, id)
  try {
    const apis = await consentByApi({ defender: tokens, graph: graphTokens }, id, configured?.permissions ?? [], `tenant-status-${Date.now()}`)
    const failed = apis.filter((a) => !a.token.ok && a.token.errorClass !== 'not-configured')
    io.out(`tenant ${id}${configured?.name === undefined ? '' : ` (${configured.name})`}${configured === undefined ? ': not in config' : ''}`)
    for (const api of apis) print(api, io)
    for (const api of failed) {
      io.err(`tenant ${id}: no ${api.title} token (${api.token.ok ? '' : api.token.errorClass}): ${api.token.ok ? '' : api.token.error}`)
      if (!api.token.ok && api.token.errorClass === 'not-onboarded') io.err(`  a tenant admin can consent at ${consent}`)
    }
    if (failed.length > 0) return 1
    const missing = apis.some((a) => a.missing.length > 0)
    if (missing) io.out(`  grant the missing permissions at ${consent}`)
    return missing ? 3 : 0
  } finally {
    tokens.close()
    graphTokens.close()
  }
}

function print (api: ApiConsent, io: Output): void {
  if (!api.token.ok) {
    io.out(`  ${api.title}: ${api.token.errorClass === 'not-configured' ? 'no permission configured' : `no token (${api.token.errorClass})`}`)
    return
  }
  io.out(`  ${api.title}: token ok, expires ${api.token.expiresOn}`)
  io.out(`    configured: ${api.configured.join(', ') || '(none)'}`)
  io.out(`    granted:    ${api.granted.join(', ') || '(none)'}`)
  io.out(`    missing:    ${api.missing.join(', ') || '(none)'}`)
}
