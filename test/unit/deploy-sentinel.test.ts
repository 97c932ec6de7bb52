import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { buildFromObject, loadConfigFile } from '../../src/config/load.js'
import type { ConfigError } from '../../src/config/problems.js'
import { parseHostPort } from '../../src/redis/topology.js'

/**
 * deploy/redis-sentinel checked against the gateway: the example config's sentinels are the pods the
 * StatefulSet creates, its primary name is the one the sentinels monitor, and the Helm-style values'
 * gateway section loads.
 */
type Obj = Record<string, any>
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const DIR = join(ROOT, 'deploy', 'redis-sentinel')
const env = { GATEWAY_CLIENT_SECRET: 'x', GATEWAY_ADMIN_TOKEN: 'y', GATEWAY_REDIS_TOKEN_KEY: 'r'.repeat(32), GATEWAY_REDIS_PASSWORD: 'p' }

async function manifests (): Promise<Obj[]> {
  const docs = parseAllDocuments(await readFile(join(DIR, 'redis-sentinel.yaml'), 'utf8'))
  for (const doc of docs) if (doc.errors.length > 0) throw new Error(doc.errors[0]?.message)
  return docs.map((d) => d.toJS() as Obj)
}

t.test('the kustomization lists every manifest', async (t) => {
  const kustomization = parseYaml(await readFile(join(DIR, 'kustomization.yaml'), 'utf8')) as Obj
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'values.yaml')
  t.same(kustomization.resources, files)
})

t.test('config/gateway-redis-sentinel.yaml names the StatefulSet\'s sentinels and primary', async (t) => {
  const docs = await manifests()
  const set = docs.find((d) => d.kind === 'StatefulSet') as Obj
  const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === set.spec.serviceName) as Obj
  t.equal(service.spec.clusterIP, 'None', 'a headless Service gives each pod a name')
  const sentinelPort = (service.spec.ports as Obj[]).find((p) => p.name === 'sentinel')?.port
  const script = (docs.find((d) => d.kind === 'ConfigMap') as Obj).data['configure.sh'] as string
  const { config } = loadConfigFile(join(ROOT, 'config', 'gateway-redis-sentinel.yaml'), env)
  const sentinel = config.redis?.sentinel
  t.ok(sentinel, 'a sentinel topology')
  const pods = Array.from({ length: set.spec.replicas as number }, (_, i) => `${set.metadata.name as string}-${i}.${service.metadata.name as string}`)
  t.same(sentinel?.nodes.map(parseHostPort), pods.map((host) => ({ host, port: sentinelPort })), 'one seed per pod, on the sentinel port')
  t.match(script, new RegExp(`^\\s*SET=${sentinel?.primaryName ?? ''}$`, 'm'), 'the primary name the sentinels monitor')
  t.match(script, /requirepass \$\{REDIS_PASSWORD\}[\s\S]*sentinel monitor/, 'the sentinels require AUTH, so the config gives them a password')
  t.ok(sentinel?.password, 'and it does')
  for (const c of [...set.spec.template.spec.containers, ...set.spec.template.spec.initContainers] as Obj[]) {
    t.equal(c.securityContext.readOnlyRootFilesystem, true, `${c.name as string}: read-only root`)
    t.equal(c.securityContext.runAsNonRoot, true, `${c.name as string}: not root`)
  }
})

t.test('the Helm-style values\' gateway section is a valid redis section', async (t) => {
  const values = parseYaml(await readFile(join(DIR, 'values.yaml'), 'utf8')) as Obj
  t.equal(values.gateway.redis.sentinel.primaryName, values.sentinel.masterSet, 'the chart\'s master set')
  // The secret files exist only in the pod: reading them is the only thing allowed to fail here.
  const problems = (() => {
    try {
      buildFromObject({ identity: { clientId: '00000000-0000-4000-8000-000000000000', secret: { fromEnv: 'S' } }, redis: values.gateway.redis }, { source: 'values.yaml', baseDir: ROOT, env: { S: 'x' } })
      return []
    } catch (err) {
      return (err as ConfigError).problems
    }
  })()
  t.ok(problems.length > 0 && problems.every((p) => /^redis\.[a-zA-Z.]+: cannot read file \/var\/run\/secrets\//.test(p)), problems.join('; '))
})
