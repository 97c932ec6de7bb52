import type { NginxProxy } from './nginx.js'
import { startHaproxy } from './haproxy.js'
import type { BenchOptions } from './options.js'
import type { PeerInit, PeerReady } from './peer-process.js'
import type { UpstreamReady } from './upstream-process.js'
import { startWorker } from './worker.js'

/** The proxies the gateway is compared with, besides nginx (bench/nginx.ts). */
export type PeerName = 'haproxy' | 'fastify' | 'bare-node'

/** A started peer: where to send load, whose CPU and memory to read, how to stop it. */
export interface StartedPeer {
  readonly name: PeerName
  readonly url: string
  pids (): number[]
  stop (): Promise<void>
}

/**
 * Starts the peers BENCH_PEERS asks for (all by default), each pinned to the proxy CPU and injecting the
 * same static bearer into the same TLS upstream. A peer that cannot start (binary missing) is reported in
 * `notes` and skipped, never the end of the run.
 */
export async function startPeers (opts: BenchOptions, up: UpstreamReady, upstreamUrl: string,
  stops: Array<() => Promise<void>>, notes: string[]): Promise<StartedPeer[]> {
  const started: StartedPeer[] = []
  for (const name of opts.peers) {
    try {
      const peer = await startPeer(name, opts, up, upstreamUrl)
      if (peer === undefined) continue
      stops.push(peer.stop)
      started.push(peer)
    } catch (err) {
      notes.push(`${name} could not start and is skipped: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  function startPeer (name: PeerName, o: BenchOptions, u: UpstreamReady, url: string): Promise<StartedPeer | undefined> {
    if (name === 'haproxy') {
      if (o.haproxy === undefined) {
        notes.push('haproxy not found on PATH (apt-get install haproxy): the haproxy peer is skipped')
        return Promise.resolve(undefined)
      }
      return startHaproxy({ binary: o.haproxy, upstreamUrl: url, caFile: u.caFile, token: u.token, cpus: o.cpus })
        .then((p: NginxProxy) => ({ name, url: p.url, pids: p.pids, stop: p.stop }))
    }
    const init: PeerInit = { kind: name === 'fastify' ? 'fastify' : 'bare', upstreamUrl: url, caPem: u.caPem, servername: 'localhost', token: u.token }
    return startWorker<PeerReady>('./peer-process.ts', init, o.cpus, o.cpus.proxy)
      .then((w) => ({ name, url: w.ready.url, pids: () => [w.pid], stop: w.stop }))
  }
  return started
}
