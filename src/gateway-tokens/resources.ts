import type { CloudName } from '../regions/clouds.js'
import { normaliseResource } from './claims.js'
import { GRAPH_APP_ID, GRAPH_HOSTS } from '../graph/clouds.js'

/** WindowsDefenderATP, the resource app of the Defender API (defender-api.md §2.4). */
export const DEFENDER_APP_ID = 'fc780465-2017-40d4-a0c5-307022471b92'

const COMMON = [
  'https://securitycenter.onmicrosoft.com/windowsatpservice',
  DEFENDER_APP_ID,
  `api://${DEFENDER_APP_ID}`
]

const BY_CLOUD: Readonly<Record<CloudName, readonly string[]>> = {
  public: ['https://api.securitycenter.microsoft.com', 'https://api.securitycenter.windows.com', 'https://api.security.microsoft.com', ...COMMON],
  gcc: ['https://api-gcc.securitycenter.microsoft.us', 'https://api-gcc.security.microsoft.us', ...COMMON],
  'gcc-high': ['https://api-gov.securitycenter.microsoft.us', 'https://api-gov.security.microsoft.us', ...COMMON],
  dod: ['https://api-gov.securitycenter.microsoft.us', 'https://api-gov.security.microsoft.us', ...COMMON]
}

/** Microsoft Graph's identifiers per cloud: the service root (src/graph/clouds.ts) and Graph's app id. */
function graphResources (cloud: CloudName): string[] {
  return [GRAPH_HOSTS[cloud], GRAPH_APP_ID, `api://${GRAPH_APP_ID}`].map(normaliseResource)
}

/**
 * The identifiers a connector may ask a gateway token for, normalised (see normaliseResource): the
 * Defender API's, and Microsoft Graph's (its security routes, src/graph).
 */
export function acceptedResources (cloud: CloudName): ReadonlySet<string> {
  return new Set([...BY_CLOUD[cloud].map(normaliseResource), ...graphResources(cloud)])
}

/** Graph's identifiers, normalised: a gateway token whose `aud` is one opens Graph routes only, any other Defender's only. */
export function graphAudiences (cloud: CloudName): ReadonlySet<string> {
  return new Set(graphResources(cloud))
}
