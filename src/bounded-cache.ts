/**
 * lru-cache options for at most `max` entries whose storage grows with use. With `max` lru-cache
 * allocates its arrays for every entry up front: about 1.2 MB of heap per cache at the default 50,000
 * tenants, eight caches, for a gateway that may serve ten tenants. Counting each entry as size 1 against
 * `maxSize` evicts at the same bound (the least recently used first), without the preallocation.
 */
export function upTo (max: number): { readonly maxSize: number, readonly sizeCalculation: () => number } {
  return { maxSize: max, sizeCalculation: one }
}

function one (): number {
  return 1
}
