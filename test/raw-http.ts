import { connect } from 'node:net'

/** What came back on a raw connection: the status from the status line (0: no answer) and the rest as text. */
export interface RawAnswer {
  readonly status: number
  readonly text: string
}

/**
 * One HTTP/1.1 request written byte for byte on a new TCP connection: the request target is sent as
 * given (no client-side URL normalisation, so `/%61dmin`, `/./x`, absolute-form all reach the server).
 * Resolves when the server closes the connection (the request asks it to; the client does not half-close,
 * which would abort the request); a reset counts as no answer.
 */
export async function rawRequest (base: string, method: string, target: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const url = new URL(base)
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', 'Content-Length: 0',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)]
  return await new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) })
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text })
    })
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  })
}
