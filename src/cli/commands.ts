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

/** `check-config FILE`: every problem at once, exit 1 when there is any. */
export function checkConfig (file: string | undefined, env: Env, io: Output): number {
  if (file === undefined) {
    io.err('usage: defender-gateway check-config FILE')
    return 2
  }
  const loaded = load(file, env, io)
  if (loaded === undefined) return 1
  const { config } = loaded
  io.out(`${file}: ok (${config.tenants.length} tenants, ${config.clients.length} clients, cloud ${config.cloud}, region ${config.upstream.region})`)
  return 0
}

/** `consent-url TENANT`: the link a customer admin opens to consent to the gateway's app. */
export function consentUrl (tenant: string | undefined, file: string, env: Env, io: Output): number {
  if (tenant === undefined) {
    io.err('usage: defender-gateway consent-url TENANT [--config FILE]')
    return 2
  }
  const loaded = load(file, env, io)
  if (loaded === undefined) return 1
  const id = resolveTenant(loaded, tenant)
  io.out(consentLink(loaded.config, id))
  return 0
}

/** A configured tenant's id from its id or alias; anything else is passed through as given. */
export function resolveTenant (loaded: LoadedConfig, ref: string): string {
  const lower = ref.toLowerCase()
  return loaded.config.tenants.find((t) => t.id === lower || t.name?.toLowerCase() === lower)?.id ?? lower
}

/** Loads a config or reports every problem; undefined when invalid. */
export function load (file: string, env: Env, io: Output): LoadedConfig | undefined {
  return loadSource(file, env, io)?.loaded
}

/**
 * Like `load`, and keeps the text it validated (a cluster primary hands it to the workers it starts);
 * `text` given: validates that instead of reading the file.
 */
export function loadSource (file: string, env: Env, io: Output, text?: string): { loaded: LoadedConfig, text: string } | undefined {
  try {
    const source = text ?? readConfigFile(file)
    return { loaded: loadConfigSource(source, file, env), text: source }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    io.err(err.message)
    return undefined
  }
}
