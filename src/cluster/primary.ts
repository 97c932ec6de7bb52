import type { Logger } from 'pino'
import { loadSource, type Env } from '../cli/commands.js'
import type { LoadedConfig } from '../config/load.js'
import { diffReload } from '../config/reload-diff.js'
import { indivisibleLimits } from '../limits/plan.js'
import { createClusterMetrics } from '../observability/cluster-metrics.js'
import { ALL_RATE_CLASSES } from '../graph/vocabulary.js'
import { createMetricsGather } from './gather.js'
import { createWorkerPool } from './pool.js'
import { buildPrimaryAdmin } from './primary-admin.js'

export interface PrimaryOptions {
  /** the config file, re-validated on SIGHUP */
  readonly path: string
  readonly env: Env
  /** the validated config and the text it came from (what workers start from) */
  readonly source: { readonly loaded: LoadedConfig, readonly text: string }
  readonly logger: Logger
  exit (code: number): void
}

const SCRAPE_TIMEOUT_MS = 4_000

/**
 * The cluster primary (server.workers > 1). It serves no API request and holds no gateway state: it
 * starts the workers, replaces those that die, owns the one admin listener, and passes signals on.
 * Resolves once every worker listens; `exit` ends the process when it is stopped.
 */
export async function runPrimary (options: PrimaryOptions): Promise<void> {
  const { config, secrets } = options.source.loaded
  const size = config.server.workers
  const logger = options.logger.child({ role: 'primary', pid: process.pid })
  warnIndivisible(options.source.loaded, logger)
  const metrics = createClusterMetrics()
  let stopping = false
  let validated = options.source.loaded.config
  const pool = createWorkerPool({
    size,
    logger,
    text: options.source.text,
    onRestart: () => metrics.restarts.inc(),
    onGiveUp: () => stop('workers failing', 1)
  })
  const gather = createMetricsGather({ workers: () => pool.ready().map((m) => m.worker), own: metrics.registry, timeoutMs: SCRAPE_TIMEOUT_MS })
  const admin = buildPrimaryAdmin({
    logger,
    adminToken: secrets.adminToken,
    isReady: () => !stopping && pool.ready().length === size,
    readiness: () => ({ ready: pool.ready().length, of: size }),
    scrape: async () => {
      metrics.workersReady.set(pool.ready().length)
      return await gather.scrape()
    },
    contentType: metrics.registry.contentType,
    workerAdmins: () => pool.ready().flatMap((m) => m.adminPort === undefined ? [] : [{ id: m.worker.id, port: m.adminPort }]),
    // a tenant's status may wait for a token from Entra ID
    forwardTimeoutMs: config.tokens.timeoutMs + 5_000,
    sessionMinutes: config.admin.sessionMinutes
  })
  // Before any worker: a busy admin port fails the start at once, and probes answer while workers start.
  const adminUrl = await admin.listen({ host: config.admin.host, port: config.admin.port })

  function stop (reason: string, failure?: 1): void {
    if (stopping) return
    stopping = true
    logger.info({ reason }, 'draining: readiness off, each worker finishes its in-flight requests')
    pool.stop().then(async (clean) => {
      gather.close()
      await admin.close()
      logger.info({ clean }, 'stopped')
      options.exit(failure ?? (clean ? 0 : 1))
    }, (err: unknown) => {
      logger.error({ err }, 'error while stopping')
      options.exit(1)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', function revalidateConfig () {
    // Workers only hear of a file that is valid, so none of them ends up on a config the others refused.
    const next = loadSource(options.path, options.env, { out: () => {}, err: (message) => logger.error({ config: options.path }, `reload rejected: ${message}`) })
    if (next === undefined) return
    if (next.loaded.config.server.workers !== size) {
      logger.warn({ config: options.path, running: size, configured: next.loaded.config.server.workers }, 'server.workers changes only with a restart')
    }
    pool.reload(next.text)
    const diff = diffReload(validated, next.loaded.config)
    validated = next.loaded.config
    logger.info({ config: options.path, ...diff }, 'config valid: workers reload clients, tenants and extraRoutes')
  })

  pool.start()
  const url = await pool.started
  logger.info({ url, adminUrl, workers: size, config: options.path }, 'defender-gateway listening')
}

/** Budgets too small to split among the workers, said once at start rather than found in a 429. */
function warnIndivisible (loaded: LoadedConfig, logger: Logger): void {
  const { config } = loaded
  if (config.redis !== undefined) return
  const limits = indivisibleLimits({ classes: ALL_RATE_CLASSES, overrides: config.limits.classes }, config.server.workers)
  if (limits.length === 0) return
  logger.warn({ workers: config.server.workers, limits },
    'these rate limits are smaller than server.workers: each worker still allows one call, so together they may exceed the limit (Defender then answers 429); redis.url gives one exact budget')
}
