/**
 * Every Redis key the gateway writes. Keys one operation uses together share a hash tag (the part in
 * braces, the only part Redis Cluster hashes), so they live in one slot and a multi-key script never
 * fails with CROSSSLOT: a budget's keys are tagged with its tenant and rate class, a token's value and
 * lock with its tenant. The names are those of earlier versions: an upgrade finds its data in place.
 */

/** The keys of one (tenant, rate class) budget: the call log, the upstream hold, one client's log. */
export interface BudgetKeys { readonly calls: string, readonly hold: string, client (name: string): string }

/** Keys of a budget; `prefix` is redis.keyPrefix (braces are refused there, so the tag is ours). */
export function budgetKeys (prefix: string, tenantId: string, rateClass: string): BudgetKeys {
  const base = `${prefix}rl:{${tenantId}|${rateClass}}`
  return { calls: `${base}:calls`, hold: `${base}:hold`, client: (name) => `${base}:client:${name.toLowerCase()}` }
}

/** The shared token of a tenant and the lock of its acquisition (one slot). */
export function tokenKeys (prefix: string, tenantId: string): { readonly value: string, readonly lock: string } {
  return { value: `${prefix}token:{${tenantId}}`, lock: `${prefix}lock:token:{${tenantId}}` }
}
