import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse, Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** Tracks open sockets so close() can end hanging requests instead of waiting for them. */
export function trackSockets (server: Server): () => void {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  return () => {
    for (const s of sockets) s.destroy()
    sockets.clear()
  }
}

/** Listens on 127.0.0.1 with an ephemeral port and returns the port. */
export async function listenLoopback (server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

/** Closes the server after destroying its sockets; resolves even if it was already closed. */
export async function closeServer (server: Server, destroyAll: () => void): Promise<void> {
  const closed = new Promise<void>(resolve => server.close(() => resolve()))
  destroyAll()
  server.closeAllConnections()
  await closed
}

export interface BodyResult { body: Buffer, bytes: number, tooLarge: boolean }

/** Reads a request body fully, counting every byte but keeping at most `limit` bytes. */
export async function readBody (req: IncomingMessage, limit: number): Promise<BodyResult> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    bytes += buf.length
    if (bytes <= limit) chunks.push(buf)
  }
  return { body: Buffer.concat(chunks), bytes, tooLarge: bytes > limit }
}

/** Writes a JSON answer with a correct Content-Length. */
export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

export const uuid = randomUUID

/** Resolves after `ms` milliseconds (immediately for 0). */
export async function sleep (ms: number): Promise<void> {
  if (ms <= 0) return
  await new Promise(resolve => setTimeout(resolve, ms))
}

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function base64url (input: Buffer | string): string {
  return Buffer.from(input).toString('base64url')
}
