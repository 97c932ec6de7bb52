import type { CloudName } from '../regions/clouds.js'

/** Microsoft Graph's resource app id; tokens may name it instead of the host in `aud` (reference §6). */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'

/**
 * Graph service root per cloud (graph-security.md §2, [gd: concepts/deployments]): GCC keeps the
 * worldwide host; GCC High and DoD have their own. The token resource is the same host (scope
 * `{host}/.default`, the national-cloud scope rule [gd: concepts/sdks/national-clouds]).
 */
export const GRAPH_HOSTS: Readonly<Record<CloudName, string>> = {
  public: 'https://graph.microsoft.com',
  gcc: 'https://graph.microsoft.com',
  'gcc-high': 'https://graph.microsoft.us',
  dod: 'https://dod-graph.microsoft.us'
}
