import { request as httpRequest } from 'node:http'
import { renderError } from '../errors.js'

/** A worker's answer to an admin request, buffered (admin answers are small JSON documents). */
export interface WorkerAnswer {
  readonly status: number
  readonly contentType: string
  readonly body: string
  /** the worker's response headers (the status pages pass cookies, redirects and their security headers on) */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** What is replayed of the caller's request (the worker checks the same admin token again). */
export interface AdminCall {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  /** the primary's id of the request, for the error it answers itself */
  readonly requestId: string
  /** further request headers to replay (the status pages: cookie, content-type) */
  readonly headers?: Readonly<Record<string, string>>
  /** a small request body (the status pages' forms) */
  readonly body?: string
}

/**
 * Replays an admin call on a worker's private admin listener (127.0.0.1, its own port). A worker that
 * does not answer within `timeoutMs`, or goes away meanwhile, becomes a 502 in the gateway's error shape.
 */
export async function askWorker (port: number, call: AdminCall, timeoutMs: number): Promise<WorkerAnswer> {
  return await new Promise((resolve) => {
    const failed = (reason: string): void => resolve({
      status: 502,
      contentType: 'application/json; charset=utf-8',
      body: renderError('UpstreamUnavailable', `A gateway worker did not answer (${reason}); try again.`, call.requestId),
      headers: {}
    })
    const headers: Record<string, string> = { ...call.headers, ...(call.authorization === undefined ? {} : { authorization: call.authorization }) }
    const req = httpRequest({ host: '127.0.0.1', port, path: call.url, method: call.method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', () => failed('connection lost'))
      res.on('end', () => resolve({
        status: res.statusCode ?? 502,
        contentType: res.headers['content-type'] ?? 'application/json; charset=utf-8',
        body: Buffer.concat(chunks).toString('utf8'),
        headers: res.headers
      }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (err: NodeJS.ErrnoException) => failed(err.code ?? err.message))
    req.end(call.body)
  })
}
