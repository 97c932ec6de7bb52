import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { canConnect, freePort, type NginxProxy } from './nginx.js'
import { pinned, type CpuLayout } from './options.js'

/** HAProxy as a peer: one thread, TLS to the upstream verified with the test CA, server-side keep-alive, bearer injected. */
export interface HaproxyOptions {
  readonly binary: string
  readonly upstreamUrl: string
  readonly caFile: string
  readonly token: string
  readonly cpus: CpuLayout
}

/** haproxy.cfg for the peer (no logging: nginx's access log goes to the same place as the gateway's). */
export function haproxyConfig (port: number, o: HaproxyOptions): string {
  const up = new URL(o.upstreamUrl)
  return `global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend peer
  bind 127.0.0.1:${port}
  default_backend defender
backend defender
  http-request set-header Authorization "Bearer ${o.token}"
  server up ${up.hostname}:${up.port} ssl verify required ca-file ${o.caFile} verifyhost localhost sni str(localhost) pool-max-conn 128
`
}

/** Starts haproxy in the foreground (pinned to the proxy CPU); the caller stops it. */
export async function startHaproxy (o: HaproxyOptions): Promise<NginxProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'defender-bench-haproxy-'))
  const port = await freePort()
  const conf = join(dir, 'haproxy.cfg')
  await writeFile(conf, haproxyConfig(port, o))
  const [command, args] = pinned(o.cpus, o.cpus.proxy, o.binary, ['-db', '-f', conf])
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let errors = ''
  child.stderr.setEncoding('utf8').on('data', (c: string) => { errors = (errors + c).slice(-2000) })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (await canConnect(port)) {
      const pid = child.pid ?? 0
      return { url: `http://127.0.0.1:${port}`, pids: () => [pid], stop }
    }
    await sleep(50)
  }
  await stop()
  throw new Error(`haproxy did not start: ${errors.trim().split('\n').slice(-3).join(' | ')}`)
}
