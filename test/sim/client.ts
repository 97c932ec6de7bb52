import { request } from 'node:https'
import type { OutgoingHttpHeaders, IncomingHttpHeaders } from 'node:http'
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'

/** A fully read HTTPS answer. */
export interface SimResponse { status: number, headers: IncomingHttpHeaders, body: Buffer, text: string, json: () => any }

export interface SimRequestOptions {
  ca: string
  method?: string
  headers?: OutgoingHttpHeaders
  body?: string | Buffer
  timeoutMs?: number
  decompress?: boolean
}

function decode (body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === 'gzip') return gunzipSync(body)
  if (encoding === 'br') return brotliDecompressSync(body)
  if (encoding === 'deflate') return inflateSync(body)
  return body
}

/** Minimal HTTPS client for tests: trusts only the given CA, no keep-alive, optional timeout. */
export async function simRequest (url: string, opts: SimRequestOptions): Promise<SimResponse> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const raw = Buffer.concat(chunks)
        const body = opts.decompress === true ? decode(raw, res.headers['content-encoding']) : raw
        const text = body.toString('utf8')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) })
      })
    })
    if (opts.timeoutMs !== undefined) {
      req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })))
    }
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** Posts an x-www-form-urlencoded body. */
export async function postForm (url: string, ca: string, form: Record<string, string>): Promise<SimResponse> {
  const body = new URLSearchParams(form).toString()
  return await simRequest(url, { ca, method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
}
