#!/usr/bin/env node
import cluster from 'node:cluster'
import type { Logger } from 'pino'
import { buildGateway, type Gateway } from './app.js'
import { configPathFrom, type LoadedConfig } from './config/load.js'
import { createLogger, logDestination } from './observability/logger.js'
import { checkConfig, consentUrl, keygen, load, loadSource, type Output } from './cli/commands.js'
import { tenantStatus } from './cli/tenant-status.js'
import { commandUsage, isCommand, programUsage, wantsHelp } from './cli/usage.js'
import { runPrimary } from './cluster/primary.js'
import { removedNames } from './config/reload-diff.js'
import { isOurWorker, joinCluster, type ClusterMember } from './cluster/worker.js'

/** Process entry: with src/cluster (its process-level half), the only module that reads argv/env, handles signals or exits. */
const io: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`)
}

function flag (args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1)
}

/** The first argument that is neither a flag nor a flag's value. */
function positional (args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === '--config' || a === '--client') i++
    else if (!a.startsWith('-')) return a
  }
  return undefined
}

async function serve (args: readonly string[]): Promise<void> {
  const path = configPathFrom(args, process.env)
  // A cluster worker starts from the text its primary validated, not from whatever the file says now.
  const member = isOurWorker(process.env) ? await joinCluster() : undefined
  const source = loadSource(path, process.env, io, member?.configText)
  if (source === undefined) process.exit(1)
  // Buffered (a write per ~4 KB, at least every second); what is held is written on the way out.
  const destination = logDestination()
  process.once('exit', () => { try { destination.flushSync() } catch {} })
  const logger = createLogger(source.loaded.config.logging.level, destination)
  if (member !== undefined) return await runGateway(path, source.loaded, logger.child(member.logBindings), member)
  if (source.loaded.config.server.workers === 1) return await runGateway(path, source.loaded, logger)
  if (cluster.isWorker) {
    io.err('server.workers > 1 needs a process of its own: inside another cluster manager (PM2 cluster mode) set server.workers: 1')
    process.exit(1)
  }
  await runPrimary({ path, env: process.env, source, logger, exit: (code) => process.exit(code) })
}

/** One gateway process: the whole gateway (server.workers: 1), or one worker of a cluster. */
async function runGateway (path: string, loaded: LoadedConfig, logger: Logger, member?: ClusterMember): Promise<void> {
  const gateway = await buildGateway(loaded, { logger, worker: member?.placement })
  // A replacement worker: the clients, tenants and extraRoutes its peers reloaded since the start.
  const reloaded = member?.reloadedText === undefined ? undefined : loadSource(path, process.env, io, member.reloadedText)
  if (reloaded !== undefined) gateway.reload(reloaded.loaded)
  const { url, adminUrl } = await gateway.listen()
  handleSignals(gateway, path, logger, member)
  // Only now, with its signal handlers in place, may the primary count (and signal) this worker.
  if (member === undefined) {
    logger.info({ url, adminUrl, config: path }, 'defender-gateway listening')
  } else {
    member.listening(gateway.metrics.registry, url, adminUrl)
    logger.info({ url }, 'worker listening')
  }
}

function handleSignals (gateway: Gateway, path: string, logger: Logger, member: ClusterMember | undefined): void {
  process.on('SIGHUP', function reloadConfig () {
    // An invalid file keeps the running config; every problem is logged for the operator.
    const next = load(path, process.env, { out: () => {}, err: (message) => logger.error({ config: path }, `reload rejected: ${message}`) })
    if (next === undefined) return
    const diff = gateway.reload(next)
    // Names only: what was added, removed and changed, so a file that parses but lost entries shows at once.
    const removed = removedNames(diff)
    const about = { config: path, ...diff, now: { tenants: next.config.tenants.length, clients: next.config.clients.length } }
    if (removed.length > 0) logger.warn(about, `config reloaded (clients, tenants, extraRoutes): removed ${removed.join(', ')}`)
    else logger.info(about, 'config reloaded (clients, tenants, extraRoutes)')
  })
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    member?.draining()
    logger.info({ signal }, 'draining: readiness off, finishing in-flight requests')
    gateway.close().then(() => {
      logger.info('stopped')
      process.exit(0)
    }, (err: unknown) => {
      logger.error({ err }, 'error while stopping')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const command = args[0] !== undefined && !args[0].startsWith('-') ? args[0] : 'serve'
  const rest = command === 'serve' && args[0] !== 'serve' ? args : args.slice(1)
  const configFile = (): string => configPathFrom(rest, process.env)
  if (wantsHelp(args) && isCommand(command)) {
    // `--help` alone is about the program; `COMMAND --help` about that command.
    io.out(args[0] === command ? commandUsage(command) : programUsage())
    process.exit(0)
  }
  switch (command) {
    case 'serve': return await serve(rest)
    case 'keygen': process.exit(keygen(flag(rest, '--client'), io)); break
    case 'check-config': process.exit(checkConfig(positional(rest) ?? flag(rest, '--config'), process.env, io, rest.includes('--without-secrets'))); break
    case 'consent-url': process.exit(consentUrl(positional(rest), configFile(), process.env, io)); break
    case 'tenant-status': process.exit(await tenantStatus(positional(rest), configFile(), process.env, io)); break
    default:
      io.err(`unknown command '${command}'.\n${programUsage()}`)
      process.exit(2)
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`defender-gateway failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
