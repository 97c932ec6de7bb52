/**
 * The process-wide bound on tenant pages read at once by all fleet pages of all clients together
 * (fleet.maxTenantReads): each holds up to fleet.maxTenantPageBytes raw, parsed and re-serialised until
 * the caller took its items, so this, not the number of open pages, bounds the memory fleet reads use.
 */
export interface Slots {
  /** a slot, or undefined when all are taken (never waits: the tenant is deferred like one out of budget) */
  take (): (() => void) | undefined
  readonly inUse: number
}

/** Slots for `size` tenant reads at once. */
export function createSlots (size: number): Slots {
  let used = 0
  return {
    take () {
      if (used >= size) return undefined
      used++
      let released = false
      return () => {
        if (released) return
        released = true
        used--
      }
    },
    get inUse () { return used }
  }
}
