import type { ParsedConfig } from './schema.js'

/**
 * Cross-checks for the token endpoint: a connector names itself by `clientId` or `name`, so both must
 * pick exactly one client, and no clientId may equal another client's name.
 */
export function checkOAuthClients (parsed: ParsedConfig): string[] {
  const problems: string[] = []
  const names = new Set(parsed.clients.map((c) => c.name.toLowerCase()))
  const ids = new Set<string>()
  parsed.clients.forEach((c, i) => {
    if (c.clientId === undefined) return
    const id = c.clientId.toLowerCase()
    if (ids.has(id)) problems.push(`clients[${i}].clientId: '${c.clientId}' is used by another client`)
    if (names.has(id)) problems.push(`clients[${i}].clientId: '${c.clientId}' is also a client name`)
    ids.add(id)
  })
  return problems
}

/** Shortest HS256 key accepted: 32 characters of `openssl rand -base64 32` carry well over 128 bits. */
export const MIN_SIGNING_KEY_LENGTH = 32
