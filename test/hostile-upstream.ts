import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { startWorld, type TestWorld } from './helper.js'

// A hostile Defender at the socket level: each API request is answered by a script that writes bytes on
// the connection itself, and the test sees when each connection closes (the gateway gave it up).

/** One API request as the hostile Defender read it. */
export interface HostileRequest {
  readonly method: string
  readonly path: string
  /** the request line and headers */
  readonly head: string
  readonly socket: TLSSocket
  /** resolves when this request's connection closed */
  readonly closed: Promise<void>
}

export type Script = (request: HostileRequest) => void | Promise<void>

export interface HostileUpstream {
  readonly url: string
  /** API requests in arrival order (health probes left out) */
  readonly requests: HostileRequest[]
  /** answers the requests that come from now on */
  script: Script
  close (): Promise<void>
}

/** Defender's normal small answer */
export function answerOk (request: HostileRequest): void {
  const body = JSON.stringify({ '@odata.context': 'x', value: [{ id: 'ok' }] })
  request.socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${body.length}\r\n\r\n${body}`)
}

/** Waits `ms`, or less when the request's connection closes first; true when it closed. */
export async function closedWithin (request: HostileRequest, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const closed = await Promise.race([request.closed.then(() => true), new Promise<boolean>((resolve) => { timer = setTimeout(resolve, ms, false) })])
  clearTimeout(timer)
  return closed
}

/** A TLS server on 127.0.0.1 with a certificate of the sim's CA; health probes (/api) are answered normally. */
async function startHostile (ca: { issueServerCert: () => Promise<{ keyPem: string, certPem: string }> }): Promise<HostileUpstream> {
  const { keyPem, certPem } = await ca.issueServerCert()
  const sockets = new Set<TLSSocket>()
  const server = createTlsServer({ key: keyPem, cert: certPem }, (socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    const closed = new Promise<void>((resolve) => { socket.once('close', () => { sockets.delete(socket); resolve() }) })
    let buffered = ''
    let busy = false
    const next = (): void => {
      if (busy) return
      const end = buffered.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = buffered.slice(0, end)
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
      if (buffered.length < end + 4 + length) return
      buffered = buffered.slice(end + 4 + length)
      const [method = '', path = ''] = head.split(' ')
      const request: HostileRequest = { method, path, head, socket, closed }
      const probe = path === '/api' || path === '/' || path === ''
      if (!probe) upstream.requests.push(request)
      busy = true
      Promise.resolve(probe ? answerOk(request) : upstream.script(request)).catch(() => {}).finally(() => { busy = false; next() })
    }
    socket.on('data', (chunk: Buffer) => { buffered += chunk.toString('latin1'); next() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const upstream: HostileUpstream = {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    script: answerOk,
    async close () {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  }
  return upstream
}

/**
 * A gateway world whose only region, eu, is the hostile Defender, with `connections` pooled connections
 * and the given server.* settings; closed on teardown.
 */
export async function hostileWorld (t: Test, server: Record<string, number>, connections: number): Promise<{ w: TestWorld, upstream: HostileUpstream }> {
  let upstream: HostileUpstream | undefined
  const w = await startWorld({
    beforeGateway: async (sim) => { upstream = await startHostile(sim.ca) },
    config: (base) => ({
      ...base,
      server: { ...base.server, ...server },
      upstream: { ...base.upstream, region: 'eu', connections, regions: { eu: upstream!.url } }
    })
  })
  t.teardown(async () => {
    await upstream!.close()
    await w.close()
  })
  return { w, upstream: upstream! }
}
