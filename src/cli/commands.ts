import { randomBytes } from 'node:crypto'
import { keyHash } from '../callers/authenticate.js'
import { loadConfigSource, readConfigFile, type LoadedConfig } from '../config/load.js'
import { ConfigError } from '../config/problems.js'
import { consentLink } from '../regions/clouds.js'

/** Where a command writes; the process entry passes stdout/stderr, tests pass buffers. */
export interface Output {
  out (line: string): void
  err (line: string): void
}

export type Env = Readonly<Record<string, string | undefined>>

/** `keygen --client NAME`: a new 256-bit key, shown once, and the config line that stores only its hash. */
export function keygen (client: string | undefined, io: Output): number {
  if (client === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(client)) {
    io.err('usage: defender-gateway keygen --client NAME   (NAME: letters, digits, dot, dash, underscore)')
    return 2
  }
  const key = `dgw_${randomBytes(32).toString('base64url')}`
  io.out(`API key for ${client} (shown once; give it to the client, store it nowhere else):`)
  io.out(`  ${key}`)
  io.out('Add to clients: in the config:')
  io.out(`  - { name: ${client}, keySha256: ${keyHash(key)}, tenants: [], permissions: [] }`)
  return 0
}

/**
 * `check-config FILE [--without-secrets]`: every problem at once, exit 1 when there is any; without
 * secrets, the references it could not check are listed so nobody mistakes them for checked.
 */
export function checkConfig (file: string | undefined, env: Env, io: Output, skipSecrets = false): number {
  if (file === undefined) {
    io.err('usage: defender-gateway check-config FILE [--without-secrets]')
    return 2
  }
  const loaded = loadSource(file, env, io, undefined, skipSecrets)?.loaded
  if (loaded === undefined) return 1
  const { config } = loaded
  io.out(`${file}: ok (${config.tenants.length} tenants, ${config.clients.length} clients, cloud ${config.cloud}, region ${config.upstream.region})`)
  const unchecked = loaded.unchecked ?? []
  if (unchecked.length > 0) io.out(`not checked (--without-secrets): ${unchecked.join(', ')}`)
  return 0
}

/** `consent-url TENANT`: the link a customer admin opens to consent to the gateway's app. */
export function consentUrl (tenant: string | undefined, file: string, env: Env, io: Output): number {
  if (tenant === undefined) {
    io.err('usage: defender-gateway consent-url TENANT [--config FILE]')
    return 2
  }
  // A link needs no secret: an operator without the gateway's secrets at hand can still send one.
  const loaded = loadSource(file, env, io, undefined, true)?.loaded
  if (loaded === undefined) return 1
  const id = resolveTenant(loaded, tenant, io)
  if (id === undefined) return 1
  io.out(consentLink(loaded.config, id))
  return 0
}

/**
 * A configured tenant's id from its id or name. Anything else is refused (undefined, after saying so
 * with the names configured): a typo must not produce a consent link or a token request for a stranger.
 */
export function resolveTenant (loaded: LoadedConfig, ref: string, io: Output): string | undefined {
  const lower = ref.toLowerCase()
  const found = loaded.config.tenants.find((t) => t.id === lower || t.name?.toLowerCase() === lower)
  if (found !== undefined) return found.id
  const known = loaded.config.tenants.map((t) => t.name ?? t.id)
  io.err(`tenant '${ref}' is not in ${loaded.source}; configured: ${known.join(', ') || '(none)'}`)
  return undefined
}

/** Loads a config or reports every problem; undefined when invalid. */
export function load (file: string, env: Env, io: Output): LoadedConfig | undefined {
  return loadSource(file, env, io)?.loaded
}

/**
 * Like `load`, and keeps the text it validated (a cluster primary hands it to the workers it starts);
 * `text` given: validates that instead of reading the file.
 */
export function loadSource (file: string, env: Env, io: Output, text?: string, skipSecrets = false): { loaded: LoadedConfig, text: string } | undefined {
  try {
    const source = text ?? readConfigFile(file)
    return { loaded: loadConfigSource(source, file, env, skipSecrets), text: source }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    io.err(err.message)
    return undefined
  }
}
