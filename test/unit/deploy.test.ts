import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, posix, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { buildFromObject } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/problems.js'

/**
 * The deployment artefacts under deploy/ checked against the code they deploy: the manifests' probes,
 * ports and security settings, the ConfigMap's config through the gateway's own loader, the Secret's
 * keys against the config's references, and the dashboard's metric names against src/.
 */

type Obj = Record<string, any>

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const K8S = join(ROOT, 'deploy', 'kubernetes')
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'defender-gateway-dashboard.json')

async function filesUnder (dir: string, test: (name: string) => boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile() && test(e.name)).map((e) => join(e.parentPath, e.name)).sort()
}

interface Manifest { readonly file: string, readonly doc: Obj }

const manifests: Manifest[] = []
let kustomization: Obj = {}

t.before(async () => {
  for (const file of await filesUnder(K8S, (n) => /\.ya?ml$/.test(n))) {
    const text = await readFile(file, 'utf8')
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? ''}`)
      const value = doc.toJS() as Obj | null
      if (value === null) continue
      if (basename(file) === 'kustomization.yaml') kustomization = value
      else manifests.push({ file: relative(K8S, file).split('\\').join('/'), doc: value })
    }
  }
})

function find (kind: string, predicate: (doc: Obj) => boolean = () => true): Obj[] {
  return manifests.map((m) => m.doc).filter((d) => d.kind === kind && predicate(d))
}
function one (kind: string, name: string): Obj {
  const found = find(kind, (d) => d.metadata?.name === name)
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`)
  return found[0] as Obj
}

const gatewayDeployment = (): Obj => one('Deployment', 'defender-gateway')
const gatewayPod = (): Obj => gatewayDeployment().spec.template.spec
const gatewayContainer = (): Obj => {
  const containers = gatewayPod().containers as Obj[]
  const c = containers.find((x) => x.name === 'gateway')
  if (c === undefined) throw new Error('no container named gateway')
  return c
}
const portNamed = (container: Obj, name: string): Obj | undefined => (container.ports as Obj[]).find((p) => p.name === name)
/** A probe's port as a number, whether the manifest names it or numbers it. */
const probePort = (container: Obj, probe: Obj): number | undefined => {
  const port = probe.httpGet?.port as number | string | undefined
  return typeof port === 'number' ? port : port === undefined ? undefined : portNamed(container, port)?.containerPort
}

/** The gateway config held by the ConfigMap the Deployment mounts, and where it is mounted. */
function mountedConfig (): { raw: Obj, path: string } {
  const args = gatewayContainer().args as string[]
  const path = args[args.indexOf('--config') + 1] as string
  const volumes = gatewayPod().volumes as Obj[]
  const mount = (gatewayContainer().volumeMounts as Obj[]).find((m) => m.mountPath === posix.dirname(path))
  if (mount === undefined) throw new Error(`nothing mounted at ${posix.dirname(path)}`)
  const volume = volumes.find((v) => v.name === mount.name)
  const cm = one('ConfigMap', volume?.configMap?.name)
  const text = cm.data?.[posix.basename(path)] as string | undefined
  if (text === undefined) throw new Error(`ConfigMap ${String(cm.metadata.name)} has no key ${posix.basename(path)}`)
  return { raw: parseYaml(text, { uniqueKeys: true }) as Obj, path }
}

/** The Secret mounted into the gateway container and its mount path. */
function mountedSecret (): { secret: Obj, mountPath: string } {
  const volumes = gatewayPod().volumes as Obj[]
  const volume = volumes.find((v) => v.secret !== undefined)
  const mount = (gatewayContainer().volumeMounts as Obj[]).find((m) => m.name === volume?.name)
  if (volume === undefined || mount === undefined) throw new Error('no Secret volume mounted in the gateway container')
  return { secret: one('Secret', volume.secret.secretName), mountPath: mount.mountPath }
}

const secretKeys = (secret: Obj): string[] => [...Object.keys(secret.stringData ?? {}), ...Object.keys(secret.data ?? {})]

/** Every {fromFile} / {fromEnv} reference anywhere in the config, with the object holding it. */
function secretRefs (value: unknown, out: Obj[] = []): Obj[] {
  if (Array.isArray(value)) {
    for (const v of value) secretRefs(v, out)
  } else if (value !== null && typeof value === 'object') {
    const o = value as Obj
    if (typeof o.fromFile === 'string' || typeof o.fromEnv === 'string') out.push(o)
    else for (const v of Object.values(o)) secretRefs(v, out)
  }
  return out
}

t.test('kustomization lists every manifest file', async (t) => {
  const files = [...new Set(manifests.map((m) => m.file))].sort()
  t.same([...(kustomization.resources as string[])].sort(), files)
  t.equal(kustomization.namespace, 'defender-gateway')
  for (const m of manifests) {
    if (m.doc.kind !== 'Namespace') t.equal(m.doc.metadata?.namespace, 'defender-gateway', `${m.doc.kind as string} ${m.doc.metadata?.name as string} namespace`)
  }
  t.equal(find('Namespace').length, 1)
})

t.test('Deployment: replicas, image, args, ports, probes', async (t) => {
  const deployment = gatewayDeployment()
  t.ok(deployment.spec.replicas >= 2, 'at least two replicas')
  const c = gatewayContainer()
  t.match(c.image, /defender-gateway:/)
  t.same(c.args, ['--config', '/etc/defender-gateway/gateway.yaml'])
  const { raw } = mountedConfig()
  t.equal(portNamed(c, 'http')?.containerPort, raw.server.port, 'API port matches server.port')
  t.equal(portNamed(c, 'admin')?.containerPort, raw.admin.port, 'admin port matches admin.port')
  t.equal(raw.admin.port, 9464)

  t.equal(c.readinessProbe?.httpGet?.path, '/readyz')
  t.equal(probePort(c, c.readinessProbe), 9464, 'readiness on the admin port')
  t.equal(c.livenessProbe?.httpGet?.path, '/healthz')
  t.equal(probePort(c, c.livenessProbe), 9464, 'liveness on the admin port')
  t.ok(c.startupProbe?.httpGet?.path, 'startup probe')
  t.equal(probePort(c, c.startupProbe), 9464, 'startup probe on the admin port')

  const annotations = deployment.spec.template.metadata.annotations as Obj
  t.equal(annotations['prometheus.io/scrape'], 'true')
  t.equal(annotations['prometheus.io/port'], '9464')
  t.equal(annotations['prometheus.io/path'], '/metrics')
})

t.test('Deployment: non-root, read-only root, no privileges', async (t) => {
  const pod = gatewayPod()
  const c = gatewayContainer()
  const sc = c.securityContext as Obj
  t.equal(pod.securityContext.runAsNonRoot, true)
  t.equal(pod.securityContext.runAsUser, 1000, 'the image\'s node user')
  t.equal(sc.runAsNonRoot, true)
  t.equal(sc.readOnlyRootFilesystem, true)
  t.equal(sc.allowPrivilegeEscalation, false)
  t.ok((sc.capabilities?.drop as string[]).includes('ALL'), 'drops ALL capabilities')
  t.equal((sc.seccompProfile ?? pod.securityContext.seccompProfile)?.type, 'RuntimeDefault')
  t.equal(pod.automountServiceAccountToken, false)
  for (const m of c.volumeMounts as Obj[]) {
    const volume = (pod.volumes as Obj[]).find((v) => v.name === m.name) as Obj
    if (volume.configMap !== undefined || volume.secret !== undefined) t.equal(m.readOnly, true, `${m.name as string} mounted read-only`)
  }
  t.ok(c.resources?.requests?.memory && c.resources?.limits?.memory, 'memory request and limit')
  t.ok(pod.topologySpreadConstraints?.length > 0 || pod.affinity?.podAntiAffinity !== undefined, 'spread across nodes')
})

t.test('termination grace outlasts the drain', async (t) => {
  const { raw } = mountedConfig()
  const drainMs = raw.server?.drainDelayMs ?? 5000
  // closeGracefully (src/pipeline/graceful-close.ts) cuts what is still open 30 s after the listener closes.
  t.ok(gatewayPod().terminationGracePeriodSeconds > drainMs / 1000 + 30, 'drain delay + 30 s in-flight allowance')
})

t.test('Services, PodDisruptionBudget and NetworkPolicy match the pods', async (t) => {
  const labels = gatewayDeployment().spec.template.metadata.labels as Obj
  const selects = (selector: Obj | undefined): boolean =>
    selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v)
  const api = one('Service', 'defender-gateway')
  t.ok(selects(api.spec.selector))
  t.same(api.spec.ports.map((p: Obj) => [p.port, p.targetPort]), [[8080, 'http']])
  const admin = one('Service', 'defender-gateway-admin')
  t.ok(selects(admin.spec.selector))
  t.same(admin.spec.ports.map((p: Obj) => [p.port, p.targetPort]), [[9464, 'admin']])

  const pdb = one('PodDisruptionBudget', 'defender-gateway')
  t.equal(pdb.spec.minAvailable, 1)
  t.ok(selects(pdb.spec.selector.matchLabels))

  const policy = one('NetworkPolicy', 'defender-gateway')
  t.ok(selects(policy.spec.podSelector.matchLabels))
  const rule = (port: number): Obj | undefined => (policy.spec.ingress as Obj[]).find((r) => (r.ports as Obj[]).some((p) => p.port === port))
  t.same(rule(8080)?.from, [{ namespaceSelector: {} }], 'API open to the cluster')
  t.same(rule(9464)?.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], 'admin only from monitoring')
  const egressPorts = (policy.spec.egress as Obj[]).flatMap((r) => (r.ports as Obj[]).map((p) => p.port))
  t.same([...new Set(egressPorts)].sort((a, b) => a - b), [53, 443, 6379])
})

t.test('the ConfigMap config loads with the project\'s own loader', async (t) => {
  const { raw } = mountedConfig()
  const { secret, mountPath } = mountedSecret()
  const keys = secretKeys(secret)
  t.equal(raw.admin.host, '0.0.0.0', 'admin reachable by probes and scrapes')

  const redis = one('Service', 'defender-gateway-redis')
  const url = new URL(raw.redis.url)
  t.equal(url.hostname.split('.')[0], redis.metadata.name, 'redis.url points at the Redis Service')
  t.equal(Number(url.port), redis.spec.ports[0].port)

  const refs = secretRefs(raw)
  t.ok(refs.length >= 4, 'client secret, admin token, redis token key and password are references')
  const env: Record<string, string> = {}
  const containerEnv = (gatewayContainer().env ?? []) as Obj[]
  for (const ref of refs) {
    if (typeof ref.fromEnv === 'string') {
      const from = containerEnv.find((e) => e.name === ref.fromEnv)?.valueFrom?.secretKeyRef as Obj | undefined
      t.ok(from !== undefined && keys.includes(from.key), `env ${ref.fromEnv as string} comes from a Secret key that exists`)
      env[ref.fromEnv] = `fake-${ref.fromEnv as string}-value-with-enough-characters-0123456789`
    } else {
      const file = ref.fromFile as string
      t.equal(posix.dirname(file), mountPath, `${file} is in the Secret mount`)
      t.ok(keys.includes(posix.basename(file)), `Secret has key ${posix.basename(file)}`)
    }
  }

  const dir = await mkdtemp(join(tmpdir(), 'gw-deploy-test-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  /** The config with the Secret mount moved to the temp dir, holding the given value per key. */
  const configWith = async (value: (key: string) => string): Promise<Obj> => {
    for (const key of keys) await writeFile(join(dir, key), `${value(key)}\n`)
    const copy = structuredClone(raw)
    for (const ref of secretRefs(copy)) {
      if (typeof ref.fromFile === 'string') ref.fromFile = join(dir, posix.basename(ref.fromFile))
    }
    return copy
  }

  const real = await configWith((key) => `fake-${key}-value-with-enough-characters-0123456789`)
  const loaded = buildFromObject(real, { source: 'deploy/kubernetes/configmap.yaml', baseDir: dir, env })
  t.equal(loaded.config.admin.host, '0.0.0.0')
  t.ok(loaded.secrets.adminToken, 'admin token resolved')
  t.ok(loaded.secrets.redisTokenKey, 'redis token key resolved')
  t.ok(loaded.secrets.redisPassword, 'redis password resolved')
  t.equal(loaded.credentials.length, 1)
  t.ok(loaded.config.limits.fallbackShare <= 1 / gatewayDeployment().spec.replicas, 'fallbackShare is at most 1 / replicas')

  // The placeholders as shipped: clearly marked, and too short a token key, so the gateway will not start.
  for (const key of keys) t.match(secret.stringData?.[key], /REPLACE_ME/, `${key} is a marked placeholder`)
  const placeholders = await configWith((key) => secret.stringData?.[key] as string)
  let problems: readonly string[] = []
  try {
    buildFromObject(placeholders, { source: 'placeholders', baseDir: dir, env })
  } catch (err) {
    if (err instanceof ConfigError) problems = err.problems
  }
  t.ok(problems.some((p) => p.startsWith('redis.tokenKey: must be at least')), 'placeholders stop the gateway from starting')
})

t.test('Redis example: no persistence, non-root, password from the Secret', async (t) => {
  const deployment = one('Deployment', 'defender-gateway-redis')
  const pod = deployment.spec.template.spec as Obj
  const c = (pod.containers as Obj[])[0] as Obj
  t.match(c.image, /^redis:7/)
  const args = c.args as string[]
  t.equal(args[args.indexOf('--save') + 1], '')
  t.equal(args[args.indexOf('--appendonly') + 1], 'no')
  t.equal(pod.securityContext.runAsNonRoot, true)
  t.equal(c.securityContext.readOnlyRootFilesystem, true)
  t.equal(c.securityContext.allowPrivilegeEscalation, false)
  const ref = (c.env as Obj[]).find((e) => e.name === 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef as Obj
  const { secret } = mountedSecret()
  t.equal(ref.name, secret.metadata.name)
  t.ok(secretKeys(secret).includes(ref.key))
  t.equal(mountedConfig().raw.redis.password.fromFile.endsWith(`/${ref.key as string}`), true, 'gateway and Redis share the password key')
})

t.test('dashboard: parses and uses only metrics defined in src', async (t) => {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Obj
  t.ok(dashboard.schemaVersion >= 36)
  const variables = dashboard.templating.list as Obj[]
  const ds = variables.find((v) => v.name === 'datasource')
  t.equal(ds?.type, 'datasource')
  t.equal(ds?.query, 'prometheus')
  t.ok(variables.some((v) => v.name === 'job') && variables.some((v) => v.name === 'instance'), 'job and instance variables')

  const sources = await filesUnder(join(ROOT, 'src'), (n) => n.endsWith('.ts'))
  const text = (await Promise.all(sources.map(async (f) => await readFile(f, 'utf8')))).join('\n')
  const defined = new Set([...text.matchAll(/name: '(defender_gateway_[a-z_]+)'/g)].map((m) => m[1]))
  t.ok(defined.size > 10, 'found the metric definitions in src')

  const panels = (dashboard.panels as Obj[]).flatMap((p) => [p, ...((p.panels ?? []) as Obj[])])
  const exprs = panels.flatMap((p) => ((p.targets ?? []) as Obj[]).map((tg) => tg.expr as string))
  exprs.push(...variables.map((v) => (typeof v.query === 'object' ? v.query.query : '') as string))
  t.ok(exprs.length > 20)
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/defender_gateway_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))))
  for (const metric of used) t.ok(defined.has(metric), `${metric} is defined in src`)
  for (const p of panels.filter((p) => p.type !== 'row')) {
    t.equal(p.datasource?.uid, '$' + '{datasource}', `panel '${p.title as string}' uses the datasource variable`)
  }
  t.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'panel ids are unique')
})
