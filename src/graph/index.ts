import type { ParsedConfig } from '../config/schema.js'
import type { Region } from '../regions/select.js'
import { GRAPH_HOSTS } from './clouds.js'

export { GRAPH_ROUTES, GRAPH_PERMISSIONS, GRAPH_RATE_CLASSES } from './catalogue-data.js'
export { apiOfPermission } from './vocabulary.js'

/** What the shared pipeline needs to send a Graph request and its answer: the host and the link rules. */
export interface GraphSide {
  /** the one Graph host of the cloud (or `graph.url`): Graph is global, so there is no region choice */
  readonly region: Region
  /** `host:port` pairs whose @odata.nextLink values are Graph's own (rewritten to the gateway) */
  readonly linkHosts: ReadonlySet<string>
  /** the path a Graph nextLink must stay under: a security collection of either version */
  readonly apiPath: RegExp
}

const SECURITY_PATH = /^\/(?:v1\.0|beta)\/security(?:[/?]|$)/i

/**
 * The Graph security API as the gateway runs it, from config: `graph.url` or the cloud's Graph host.
 * Links on the configured host and on every cloud's Graph host are Graph's; all others are removed.
 */
export function createGraphSide (config: Pick<ParsedConfig, 'cloud' | 'graph'>): GraphSide {
  const url = (config.graph.url ?? GRAPH_HOSTS[config.cloud]).replace(/\/+$/, '')
  const linkHosts = new Set<string>()
  for (const base of [url, GRAPH_HOSTS[config.cloud]]) {
    const parsed = new URL(base)
    linkHosts.add(`${parsed.hostname.toLowerCase()}:${parsed.port === '' ? (parsed.protocol === 'http:' ? '80' : '443') : parsed.port}`)
  }
  return { region: { name: 'graph', url }, linkHosts, apiPath: SECURITY_PATH }
}
