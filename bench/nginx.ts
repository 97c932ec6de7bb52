import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pinned, type CpuLayout } from './options.js'
import { childPids } from './procstat.js'

/** A running nginx reverse proxy that injects a static bearer token (the "plain proxy" reference). */
export interface NginxProxy {
  readonly url: string
  /** master and worker pids, for /proc readings */
  pids (): number[]
  stop (): Promise<void>
}

export interface NginxOptions {
  readonly binary: string
  readonly upstreamUrl: string
  readonly caFile: string
  readonly token: string
  readonly logFile: string
  readonly cpus: CpuLayout
  /** pass answers on as the caller takes them (proxy_buffering off) instead of spooling them to disk */
  readonly streaming?: boolean
}

/** A free loopback port (for a peer that cannot listen on port 0 and report it). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** True once something accepts connections on the loopback port. */
export async function canConnect (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** One worker in the foreground, its files in `dir`; the caller's lines follow inside `http {`. */
function configHead (dir: string): string {
  return `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {`
}

/** nginx.conf: one worker, upstream keep-alive over TLS verified with the test CA, Authorization injected. */
export function nginxConfig (dir: string, port: number, o: NginxOptions): string {
  const up = new URL(o.upstreamUrl)
  return `${configHead(dir)}
  access_log ${o.logFile};
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  upstream defender {
    server ${up.hostname}:${up.port};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass https://defender;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer ${o.token}";
      proxy_ssl_trusted_certificate ${o.caFile};
      proxy_ssl_verify on;
      proxy_ssl_name localhost;
      proxy_ssl_session_reuse on;${o.streaming === true ? '\n      proxy_buffering off;' : ''}
    }
  }
}
`
}

/** Writes a config to a temp dir and starts nginx in the foreground (pinned to the proxy CPU). */
export async function startNginx (o: NginxOptions): Promise<NginxProxy> {
  return await launch(o.binary, o.cpus, o.cpus.proxy, (dir, port) => nginxConfig(dir, port, o))
}

export interface StaticUpstreamOptions {
  readonly binary: string
  readonly certPem: string
  readonly keyPem: string
  /** the JSON every request gets (a one-alert page with an absolute @odata.nextLink) */
  readonly body: (baseUrl: string) => string
  readonly cpus: CpuLayout
}

/**
 * The cheap upstream the saturation and fixed-rate runs use: nginx answering every request over TLS with
 * one static JSON page. The simulated Defender verifies a JWT and builds the page per request, so on the
 * CPU it shares with the load generator it, not the proxy under test, would set the limit.
 */
export async function startStaticUpstream (o: StaticUpstreamOptions): Promise<NginxProxy> {
  return await launch(o.binary, o.cpus, o.cpus.upstream, async (dir, port) => {
    await writeFile(join(dir, 'cert.pem'), o.certPem)
    await writeFile(join(dir, 'key.pem'), o.keyPem)
    // nginx's workers drop root's privileges: the page must be readable by them (mkdtemp makes 0700)
    await chmod(dir, 0o755)
    await mkdir(join(dir, 'www'), { mode: 0o755 })
    await writeFile(join(dir, 'www', 'page.json'), o.body(`https://127.0.0.1:${port}`), { mode: 0o644 })
    return `${configHead(dir)}
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} ssl backlog=4096;
    ssl_certificate ${join(dir, 'cert.pem')};
    ssl_certificate_key ${join(dir, 'key.pem')};
    root ${join(dir, 'www')};
    default_type application/json;
    location / { rewrite ^ /page.json break; }
  }
}
`
  }, 'https')
}

async function launch (binary: string, cpus: CpuLayout, cpu: number | undefined,
  config: (dir: string, port: number) => string | Promise<string>, scheme = 'http'): Promise<NginxProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'defender-bench-nginx-'))
  await mkdir(join(dir, 'body'))
  await mkdir(join(dir, 'proxy'))
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, await config(dir, port))
  const [command, args] = pinned(cpus, cpu, binary, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')])
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break
    if (await canConnect(port)) {
      const master = child.pid ?? 0
      return { url: `${scheme}://127.0.0.1:${port}`, pids: () => [master, ...childPids(master)], stop: cleanup }
    }
    await sleep(50)
  }
  const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')
  await cleanup()
  throw new Error(`nginx did not start: ${log.trim().split('\n').slice(-3).join(' | ')}`)
}
