import { Agent, request } from 'node:https'
import { request as httpRequest, Agent as HttpAgent } from 'node:http'
import type { SecureContext } from 'node:tls'
import type { Region } from './select.js'

/** The result of one unauthenticated round trip to a region. */
export type ProbeResult = { readonly ok: true, readonly rttMs: number } | { readonly ok: false, readonly reason: string }

export type Probe = (region: Region) => Promise<ProbeResult>

/**
 * Measures a region with `GET /api` and no token: any answer below 500 (Defender says 401) proves the
 * host is up and gives the round trip. Keep-alive agents, so after the first probe it is the network
 * RTT, not a TLS handshake, that is measured.
 */
export function createProbe (options: { tlsContext?: SecureContext, timeoutMs: number }): Probe & { close (): void } {
  const tls = new Agent({ keepAlive: true, maxSockets: 1, secureContext: options.tlsContext })
  const plain = new HttpAgent({ keepAlive: true, maxSockets: 1 })
  const probe = (region: Region): Promise<ProbeResult> => new Promise((resolve) => {
    const started = performance.now()
    const secure = region.url.startsWith('https:')
    const send = secure ? request : httpRequest
    const req = send(`${region.url}/api`, { method: 'GET', agent: secure ? tls : plain, headers: { 'user-agent': 'defender-gateway-probe' } }, (res) => {
      res.resume()
      const rttMs = performance.now() - started
      const status = res.statusCode ?? 0
      resolve(status < 500 ? { ok: true, rttMs } : { ok: false, reason: `HTTP ${status}` })
    })
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, reason: err.code ?? err.message }))
    req.end()
  })
  return Object.assign(probe, { close () { tls.destroy(); plain.destroy() } })
}
