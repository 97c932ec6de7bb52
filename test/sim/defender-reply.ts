import { constants, createBrotliCompress, createDeflate, createGzip } from 'node:zlib'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Writable } from 'node:stream'
import { uuid } from './http-util.js'

/** Defender's error code for an HTTP status (as listed in common-errors). */
export function codeForStatus (status: number): string {
  const codes: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'ResourceNotFound',
    405: 'MethodNotAllowed',
    413: 'RequestEntityTooLarge',
    429: 'TooManyRequests',
    500: 'InternalServerError',
    502: 'BadGateway',
    503: 'ServiceUnavailable',
    504: 'GatewayTimeout'
  }
  return codes[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequest')
}

/** Chooses a content coding from Accept-Encoding (br, gzip, deflate), or undefined for identity. */
export function pickEncoding (req: IncomingMessage): 'br' | 'gzip' | 'deflate' | undefined {
  const header = String(req.headers['accept-encoding'] ?? '').toLowerCase()
  const accepted = new Set<string>()
  for (const item of header.split(',')) {
    const [name, ...params] = item.trim().split(';')
    const q = params.map(p => p.trim()).find(p => p.startsWith('q='))
    if (name !== undefined && name !== '' && (q === undefined || Number(q.slice(2)) > 0)) accepted.add(name)
  }
  for (const enc of ['gzip', 'br', 'deflate'] as const) if (accepted.has(enc)) return enc
  return undefined
}

/** Writes the response head and returns the stream the body goes to (a zlib stream when compressing). */
export function openBody (req: IncomingMessage, res: ServerResponse, compress: boolean, status: number,
  headers: Record<string, string | number>): Writable {
  const enc = compress ? pickEncoding(req) : undefined
  if (enc === undefined) {
    res.writeHead(status, headers)
    return res
  }
  const { 'content-length': _dropped, ...rest } = headers
  res.writeHead(status, { ...rest, 'content-encoding': enc, vary: 'Accept-Encoding' })
  const z = enc === 'gzip'
    ? createGzip()
    : enc === 'br'
      ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })
      : createDeflate()
  z.pipe(res)
  res.on('close', () => z.destroy())
  return z
}

/** Sends a complete text body, compressed when allowed. */
export function sendText (req: IncomingMessage, res: ServerResponse, compress: boolean, status: number, text: string,
  headers: Record<string, string> = {}, contentType = 'application/json; odata.metadata=minimal; charset=utf-8'): void {
  const out = openBody(req, res, compress, status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...headers
  })
  out.end(text)
}

/** Builds Defender's error body: `{"error":{"code","message","target"}}`. */
export function errorBody (code: string, message: string): { error: { code: string, message: string, target: string } } {
  return { error: { code, message, target: uuid() } }
}

/** A scripted answer (headers and body bytes as given), for tests of what a hostile Defender can send. */
export interface ScriptedAnswer {
  kind: 'answer'
  status?: number
  headers: Record<string, string>
  body: Buffer
  /** write the body this many bytes at a time, each write waited for (a dribbling upstream) */
  writeBytes?: number
}

/** Sends a scripted answer; a dribbled body goes out one awaited write at a time. */
export async function sendScripted (res: ServerResponse, answer: ScriptedAnswer): Promise<void> {
  res.writeHead(answer.status ?? 200, answer.headers)
  const size = answer.writeBytes ?? answer.body.length
  for (let i = 0; i < answer.body.length && !res.destroyed; i += size) {
    await new Promise<void>((resolve) => {
      const done = (): void => { res.off('close', done); resolve() }
      res.once('close', done)
      res.write(answer.body.subarray(i, i + size), done)
    })
  }
  res.end()
}
