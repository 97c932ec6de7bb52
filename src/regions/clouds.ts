/** Per-cloud facts (reference §1, §2): where tokens come from, which scope, which API hosts. */
export type CloudName = 'public' | 'gcc' | 'gcc-high' | 'dod'

export interface CloudProfile {
  readonly loginHost: string
  /** resource the token is issued for; the scope is `${resource}/.default` */
  readonly resource: string
  /** region name → API base URL, nearest-first order is decided at run time */
  readonly regions: Readonly<Record<string, string>>
}

const PUBLIC_REGIONS = {
  us: 'https://us.api.security.microsoft.com',
  eu: 'https://eu.api.security.microsoft.com',
  uk: 'https://uk.api.security.microsoft.com',
  au: 'https://au.api.security.microsoft.com',
  swa: 'https://swa.api.security.microsoft.com',
  ina: 'https://ina.api.security.microsoft.com',
  aea: 'https://aea.api.security.microsoft.com',
  global: 'https://api.security.microsoft.com'
}

const GOV_HIGH = 'https://api-gov.securitycenter.microsoft.us'

/** Cloud table; GCC High and DoD share hosts (reference §1.2, audiences UNCONFIRMED there). */
export const CLOUDS: Readonly<Record<CloudName, CloudProfile>> = {
  public: { loginHost: 'https://login.microsoftonline.com', resource: 'https://api.securitycenter.microsoft.com', regions: PUBLIC_REGIONS },
  gcc: { loginHost: 'https://login.microsoftonline.com', resource: 'https://api-gcc.securitycenter.microsoft.us', regions: { gcc: 'https://api-gcc.securitycenter.microsoft.us' } },
  'gcc-high': { loginHost: 'https://login.microsoftonline.us', resource: GOV_HIGH, regions: { gov: GOV_HIGH } },
  dod: { loginHost: 'https://login.microsoftonline.us', resource: GOV_HIGH, regions: { gov: GOV_HIGH } }
}

/**
 * Region table in force. An operator's `upstream.regions` replaces the cloud's table whole, so a
 * deployment (or a test) never reaches a host it did not list.
 */
export function regionTable (cloud: CloudName, overrides?: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  return overrides !== undefined && Object.keys(overrides).length > 0 ? overrides : CLOUDS[cloud].regions
}

/** The link a customer tenant's admin opens to consent to the gateway's app (reference §2.5). */
export function consentLink (config: { cloud: CloudName, identity: { clientId: string, authorityHost?: string } }, tenantId: string): string {
  const host = (config.identity.authorityHost ?? CLOUDS[config.cloud].loginHost).replace(/\/+$/, '')
  return `${host}/${tenantId}/adminconsent?client_id=${config.identity.clientId}`
}
