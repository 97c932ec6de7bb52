import type { Server } from 'node:http'

/**
 * Stops accepting connections but keeps serving the open ones: Node would otherwise drop connections
 * that were just accepted and have not sent their request yet (the client then sees a reset). Those
 * get a second to speak; answers carry Connection: close meanwhile; what is still open after 30 s is cut.
 */
export async function closeGracefully (server: Server, close: () => Promise<void>): Promise<void> {
  const closeIdle = server.closeIdleConnections.bind(server)
  server.closeIdleConnections = () => {}
  const grace = setTimeout(closeIdle, 1000)
  const hard = setTimeout(() => server.closeAllConnections(), 30_000)
  try {
    await close()
  } finally {
    clearTimeout(grace)
    clearTimeout(hard)
  }
}
