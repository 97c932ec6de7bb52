import { Agent, request as httpsRequest } from 'node:https'
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node'
import { outboundTlsContext } from '../trust.js'

/**
 * msal's network client, replaced because the default one has no timeout on the token POST, cannot
 * trust an extra CA after start, and drops the cause of network errors (reference/msal-node.md).
 */
export function createNetworkClient (options: { caPem?: string, timeoutMs: number }): INetworkModule & { close (): void } {
  const agent = new Agent({
    keepAlive: true,
    // Generous: tenants whose token requests hang hold sockets until the timeout, and must not queue the rest.
    maxSockets: 512,
    maxFreeSockets: 64,
    // One TLS context for every socket (a CA list here would rebuild it from ~150 roots per connection).
    secureContext: outboundTlsContext(options.caPem)
  })
  const send = <T>(method: 'GET' | 'POST', url: string, opts?: NetworkRequestOptions, timeout?: number, retried = false): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const body = opts?.body
      const headers: Record<string, string | number> = { ...opts?.headers }
      if (body !== undefined) headers['content-length'] = Buffer.byteLength(body)
      const req = httpsRequest(url, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown
          try { parsed = text === '' ? {} : JSON.parse(text) } catch { parsed = { error: 'non_json_response', error_description: `HTTP ${Number(res.statusCode)} with a non-JSON body` } }
          const responseHeaders: Record<string, string> = {}
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') responseHeaders[k] = v
          resolve({ status: Number(res.statusCode), headers: responseHeaders, body: parsed as T })
        })
      })
      req.setTimeout(timeout ?? options.timeoutMs, () => {
        req.destroy(new Error(`no answer from ${new URL(url).host} within ${timeout ?? options.timeoutMs} ms`))
      })
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed just as we wrote on it: the request never arrived, so it
        // is sent once more on a new socket (Node's documented keep-alive race; a token request is safe twice).
        if (!retried && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          send<T>(method, url, opts, timeout, true).then(resolve, reject)
          return
        }
        reject(err)
      })
      req.end(body)
    })
  return {
    sendGetRequestAsync: (url, opts, timeout) => send('GET', url, opts, timeout),
    sendPostRequestAsync: (url, opts) => send('POST', url, opts),
    close: () => agent.destroy()
  }
}
