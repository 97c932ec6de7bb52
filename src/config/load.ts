import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { configSchema, type ParsedConfig } from './schema.js'
import { crossCheck } from './validate.js'
import { checkLimitsAndRedis, MIN_TOKEN_KEY_LENGTH } from './validate-limits.js'
import { lenientParse } from './lenient.js'
import { caBundleProblem, certificateProblem, privateKeyProblem } from './key-material.js'
import { ConfigError, formatPath } from './problems.js'
import { resolveSecret, Secret, type SecretSource } from './secret.js'
import { ROUTES } from '../policy/catalogue-data.js'
import { ALL_PERMISSIONS, ALL_RATE_CLASSES } from '../graph/vocabulary.js'
import { regionTable } from '../regions/clouds.js'
import type { Credential } from '../tokens/credentials.js'
import { readCredentials } from './identity.js'
import { checkOAuthClients, MIN_SIGNING_KEY_LENGTH } from './validate-oauth.js'

/** Everything the gateway runs on: the validated config plus the secrets and files it references. */
export interface LoadedConfig {
  readonly config: Readonly<ParsedConfig>
  readonly secrets: {
    readonly clientSecret?: Secret
    readonly adminToken?: Secret
    readonly certificateKey?: Secret
    /** key material for tokens at rest in Redis */
    readonly redisTokenKey?: Secret
    readonly redisPassword?: Secret
    /** AUTH for the sentinels themselves (redis.sentinel.password) */
    readonly redisSentinelPassword?: Secret
    /** token endpoint keys: the signing key first, then older keys still accepted (oauth.previousKeys) */
    readonly oauthKeys?: readonly Secret[]
    /** signs onboarding links and consent state (onboarding.signingKey) */
    readonly onboardingKey?: Secret
    /** HMAC key of fleet cursors (fleet.cursorKey) */
    readonly fleetCursorKey?: Secret
  }
  readonly files: {
    readonly caPem?: string
    readonly certificatePem?: string
    readonly tls?: { readonly cert: string, readonly key: Secret }
  }
  /** the app's credentials in the order they are tried (one, or several during a rotation) */
  readonly credentials: readonly Credential[]
  /** where it came from, for messages */
  readonly source: string
  /** with `skipSecrets`: the references not read ('identity.secret (env GATEWAY_CLIENT_SECRET)') */
  readonly unchecked?: readonly string[]
}

export interface LoadOptions {
  readonly source: string
  /** relative file paths in the config are resolved against this (the config file's folder) */
  readonly baseDir: string
  readonly env: Readonly<Record<string, string | undefined>>
  /**
   * true: secret references and the files the config names are not read (each stands in as a placeholder
   * and is listed in `unchecked`), so `check-config --without-secrets` works where the secrets are not.
   */
  readonly skipSecrets?: boolean
}

/** `--config FILE`, else GATEWAY_CONFIG, else config/gateway.yaml (design §3). */
export function configPathFrom (argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string {
  const i = argv.indexOf('--config')
  const fromArg = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--config='))?.slice('--config='.length)
  return fromArg ?? env.GATEWAY_CONFIG ?? 'config/gateway.yaml'
}

/** Reads, validates and resolves a config file; throws ConfigError listing every problem. */
export function loadConfigFile (path: string, env: LoadOptions['env']): LoadedConfig {
  return loadConfigSource(readConfigFile(path), path, env)
}

/** A config file's text, read once: a cluster primary hands the very text it validated to its workers. */
export function readConfigFile (path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(path, [`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`])
  }
}

/** Validates text read from `path`; relative paths in it resolve against that file's folder. */
export function loadConfigSource (text: string, path: string, env: LoadOptions['env'], skipSecrets = false): LoadedConfig {
  return parseConfigText(text, { source: path, baseDir: dirname(resolve(path)), env, skipSecrets })
}

/** The same as loadConfigFile for text already in hand (tests, reload). */
export function parseConfigText (text: string, options: LoadOptions): LoadedConfig {
  const lines = new LineCounter()
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines })
  if (doc.errors.length > 0) {
    // Line and column first, so an editor's "go to" finds the spot (yaml counts both from 1).
    throw new ConfigError(options.source, doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0])
      return `yaml: line ${line}, column ${col}: ${e.message.split('\n')[0] ?? ''}`
    }))
  }
  return buildFromObject(doc.toJS() ?? {}, options)
}

/** Validates an already-parsed object (a test's or a reload's config). */
export function buildFromObject (raw: unknown, options: LoadOptions): LoadedConfig {
  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
    // Keep going on what did parse, so reference and secret problems are reported in the same pass.
    const { config, identityValid } = lenientParse(raw)
    const more = checkAll(config, options).problems
      .filter((p) => identityValid || !p.startsWith('identity: set exactly one'))
    throw new ConfigError(options.source, [...problems, ...more.filter((p) => !problems.includes(p))])
  }
  const { config, problems, material, unchecked } = checkAll(parsed.data, options)
  if (problems.length > 0) throw new ConfigError(options.source, problems)
  return deepFreeze({ ...material, config, source: options.source, unchecked })
}

const ROUTE_KEYS: ReadonlySet<string> = new Set(ROUTES.map((r) => `${r.method} ${r.template.toLowerCase()}`))

function checkAll (parsed: ParsedConfig, options: LoadOptions): { config: ParsedConfig, problems: string[], material: Pick<LoadedConfig, 'secrets' | 'files' | 'credentials'>, unchecked: string[] } {
  const regions = Object.keys(regionTable(parsed.cloud, parsed.upstream.regions))
  const { config, problems } = crossCheck(parsed, { permissions: ALL_PERMISSIONS, regions, rateClasses: Object.keys(ALL_RATE_CLASSES), routeKeys: ROUTE_KEYS })
  problems.push(...checkLimitsAndRedis(config, Object.keys(ALL_RATE_CLASSES)), ...checkOAuthClients(config))
  const unchecked: string[] = []
  const material = readMaterial(config, options, problems, options.skipSecrets === true ? unchecked : undefined)
  return { config, problems, material, unchecked }
}

// Stands in for a secret or file not read (check-config --without-secrets): long enough for every length rule.
const PLACEHOLDER = new Secret('x'.repeat(64))

function readMaterial (config: ParsedConfig, source: SecretSource, problems: string[], skipped?: string[]): Pick<LoadedConfig, 'secrets' | 'files' | 'credentials'> {
  const secret = (ref: Parameters<typeof resolveSecret>[0] | undefined, where: string): Secret | undefined => {
    if (ref === undefined) return undefined
    if (skipped !== undefined) {
      skipped.push(`${where} (${'fromEnv' in ref ? `env ${ref.fromEnv}` : `file ${ref.fromFile}`})`)
      return PLACEHOLDER
    }
    const result = resolveSecret(ref, source)
    if (typeof result === 'string') problems.push(`${where}: ${result}`)
    return result instanceof Secret ? result : undefined
  }
  const file = (path: string | undefined, where: string, check?: (pem: string) => string | undefined): string | undefined => {
    if (path === undefined) return undefined
    const value = secret({ fromFile: path }, where)
    return parsed(value, where, check)?.reveal()
  }
  /** `value` if `check` finds it usable (not run on what --without-secrets did not read); else a problem */
  const parsed = (value: Secret | undefined, where: string, check?: (pem: string) => string | undefined): Secret | undefined => {
    const problem = value === undefined || check === undefined || skipped !== undefined ? undefined : check(value.reveal())
    if (problem !== undefined) problems.push(`${where}: ${problem}`)
    return problem === undefined ? value : undefined
  }
  const key = (path: string | undefined, where: string): Secret | undefined => path === undefined ? undefined : parsed(secret({ fromFile: path }, where), where, privateKeyProblem)
  const { identity, server, trust, admin, redis } = config
  const redisTokenKey = secret(redis?.tokenKey, 'redis.tokenKey')
  if (redisTokenKey !== undefined && redisTokenKey.reveal().length < MIN_TOKEN_KEY_LENGTH) {
    problems.push(`redis.tokenKey: must be at least ${MIN_TOKEN_KEY_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`)
  }
  const oauthKeys = readOAuthKeys(config, secret, problems)
  const onboardingKey = secret(config.onboarding?.signingKey, 'onboarding.signingKey')
  if (onboardingKey !== undefined && onboardingKey.reveal().length < MIN_SIGNING_KEY_LENGTH) {
    problems.push(`onboarding.signingKey: must be at least ${MIN_SIGNING_KEY_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`)
  }
  const fleetCursorKey = secret(config.fleet.cursorKey, 'fleet.cursorKey')
  if (fleetCursorKey !== undefined && fleetCursorKey.reveal().length < MIN_SIGNING_KEY_LENGTH) {
    problems.push(`fleet.cursorKey: must be at least ${MIN_SIGNING_KEY_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`)
  }
  const tlsCert = file(server.tls?.certFile, 'server.tls.certFile', certificateProblem)
  const tlsKey = key(server.tls?.keyFile, 'server.tls.keyFile')
  const clientSecret = secret(identity.secret, 'identity.secret')
  const certificateKey = key(identity.certificate?.keyFile, 'identity.certificate.keyFile')
  const certificatePem = file(identity.certificate?.certFile, 'identity.certificate.certFile', certificateProblem)
  return {
    credentials: readCredentials(identity, { clientSecret, certificateKey, certificatePem }, { secret, file, key }, source),
    secrets: {
      clientSecret,
      adminToken: secret(admin.token, 'admin.token'),
      certificateKey,
      redisTokenKey,
      redisPassword: secret(redis?.password, 'redis.password'),
      redisSentinelPassword: secret(redis?.sentinel?.password, 'redis.sentinel.password'),
      oauthKeys,
      onboardingKey,
      fleetCursorKey
    },
    files: {
      caPem: file(trust.caFile, 'trust.caFile', caBundleProblem),
      certificatePem,
      tls: tlsCert !== undefined && tlsKey !== undefined ? { cert: tlsCert, key: tlsKey } : undefined
    }
  }
}

function readOAuthKeys (config: ParsedConfig, secret: (ref: Parameters<typeof resolveSecret>[0] | undefined, where: string) => Secret | undefined, problems: string[]): Secret[] | undefined {
  const { oauth } = config
  if (oauth === undefined) return undefined
  const refs = [[oauth.signingKey, 'oauth.signingKey'] as const, ...oauth.previousKeys.map((ref, i) => [ref, `oauth.previousKeys[${i}]`] as const)]
  return refs.flatMap(([ref, where]) => {
    const key = secret(ref, where)
    if (key === undefined) return []
    if (key.reveal().length < MIN_SIGNING_KEY_LENGTH) {
      problems.push(`${where}: must be at least ${MIN_SIGNING_KEY_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`)
      return []
    }
    return [key]
  })
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
