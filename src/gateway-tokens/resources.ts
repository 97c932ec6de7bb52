import type { CloudName } from '../regions/clouds.js'
import { normaliseResource } from './claims.js'

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

/** The identifiers of the Defender API a connector may ask a token for, normalised (see normaliseResource). */
export function acceptedResources (cloud: CloudName): ReadonlySet<string> {
  return new Set(BY_CLOUD[cloud].map(normaliseResource))
}
