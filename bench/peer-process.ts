import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream'
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'
import { Pool, type Dispatcher } from 'undici'
import { announce, receiveInit } from './worker.js'

/**
 * The Node peers of the bench: what the gateway is measured against. Each injects a static bearer into
 * the same TLS upstream and does nothing else (no auth, policy, budgets, logs or metrics):
 * - `bare`: a hand-written `node:http` server and an undici pool, the least Node can do per request;
 * - `fastify`: stock fastify 5 with @fastify/http-proxy (reply-from on undici), defaults untouched.
 */

/** What the parent sends. */
export interface PeerInit {
  readonly kind: 'bare' | 'fastify'
  readonly upstreamUrl: string
  readonly caPem: string
  /** TLS name the upstream's certificate is issued for */
  readonly servername: string
  readonly token: string
}

/** What this process reports back once listening. */
export interface PeerReady {
  readonly type: 'ready'
  readonly url: string
}

/** Upstream connections, as many as the gateway's pool may open (upstream.connections defaults to 128). */
const CONNECTIONS = 128

// RFC 9110 §7.6.1: not copied in either direction.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host'])

function copyHeaders (from: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [k, v] of Object.entries(from)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v
  return out
}

/** node:http in, undici out, the answer piped back: no framework, no per-request allocations beyond headers. */
async function startBare (init: PeerInit): Promise<{ url: string, close: () => Promise<void> }> {
  const pool = new Pool(init.upstreamUrl, { connections: CONNECTIONS, pipelining: 1, connect: { ca: init.caPem, servername: init.servername } })
  const server: Server = createServer((req, res) => {
    const headers = copyHeaders(req.headers)
    headers.authorization = `Bearer ${init.token}`
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
    const call: Dispatcher.RequestOptions = { path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: headers as Record<string, string>, body: hasBody ? req : null }
    pool.request(call, (err, up) => {
      if (err !== null) {
        res.writeHead(502).end()
        return
      }
      res.writeHead(up.statusCode, copyHeaders(up.headers))
      pipeline(up.body, res, () => {})
    })
  })
  const url = await listen(server)
  return { url, close: async () => { server.close(); await pool.close() } }
}

/** fastify + @fastify/http-proxy as its README shows, plus the header and the CA. */
async function startFastify (init: PeerInit): Promise<{ url: string, close: () => Promise<void> }> {
  const app = Fastify()
  await app.register(proxy, {
    upstream: init.upstreamUrl,
    undici: { connections: CONNECTIONS, pipelining: 1, connect: { ca: init.caPem, servername: init.servername } },
    replyOptions: { rewriteRequestHeaders: (_req, headers) => ({ ...headers, authorization: `Bearer ${init.token}` }) }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { url, close: async () => { await app.close() } }
}

async function listen (server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function main (): Promise<void> {
  const init = await receiveInit<PeerInit>()
  const peer = init.kind === 'bare' ? await startBare(init) : await startFastify(init)
  announce({ url: peer.url }, peer.close)
}

main().catch((err: unknown) => {
  process.send?.({ type: 'failed', error: String(err) })
  process.exitCode = 1
})
