#!/usr/bin/env node
import { buildGateway } from './app.js'
import { configPathFrom, loadConfigFile } from './config/load.js'
import { ConfigError } from './config/problems.js'
import { createLogger } from './observability/logger.js'

/** Process entry: the only module that reads argv/env, listens for signals or exits. */
async function main (): Promise<void> {
  const path = configPathFrom(process.argv.slice(2), process.env)
  let loaded
  try {
    loaded = loadConfigFile(path, process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const logger = createLogger(loaded.config.logging.level)
  const gateway = await buildGateway(loaded, { logger })
  const { url, adminUrl } = await gateway.listen()
  logger.info({ url, adminUrl, config: path }, 'defender-gateway listening')

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping: no new connections, finishing in-flight requests')
    gateway.close().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'error while stopping')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err: unknown) => {
  process.stderr.write(`defender-gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
