/**
 * Configured permissions split by what a tenant's token grants (roles are lowercase, compared
 * case-insensitively): the one rule the admin API, the status pages and the onboarding result share.
 */
export function splitGranted (configured: readonly string[], roles: ReadonlySet<string>): { granted: string[], missing: string[] } {
  return {
    granted: configured.filter((p) => roles.has(p.toLowerCase())),
    missing: configured.filter((p) => !roles.has(p.toLowerCase()))
  }
}
