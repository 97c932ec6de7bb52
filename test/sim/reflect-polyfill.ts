/**
 * Minimal Reflect metadata polyfill. @peculiar/x509 depends on tsyringe, which refuses to load without
 * `Reflect.getMetadata`; the usual `reflect-metadata` package is not a dependency here, so the few
 * functions tsyringe and tslib use are provided. Import this module before `@peculiar/x509`.
 */
type Key = unknown
type Store = Map<string | symbol | undefined, Map<Key, unknown>>

const stores = new WeakMap<object, Store>()

function storeFor (target: object, property: string | symbol | undefined, create: boolean): Map<Key, unknown> | undefined {
  let byProp = stores.get(target)
  if (byProp === undefined) {
    if (!create) return undefined
    stores.set(target, byProp = new Map())
  }
  let meta = byProp.get(property)
  if (meta === undefined && create) byProp.set(property, meta = new Map())
  return meta
}

function getOwnMetadata (key: Key, target: object, property?: string | symbol): unknown {
  return storeFor(target, property, false)?.get(key)
}

function getMetadata (key: Key, target: object, property?: string | symbol): unknown {
  for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const meta = storeFor(o, property, false)
    if (meta?.has(key) === true) return meta.get(key)
  }
  return undefined
}

function defineMetadata (key: Key, value: unknown, target: object, property?: string | symbol): void {
  storeFor(target, property, true)!.set(key, value)
}

function hasMetadata (key: Key, target: object, property?: string | symbol): boolean {
  return getMetadata(key, target, property) !== undefined
}

function metadata (key: Key, value: unknown) {
  return (target: object, property?: string | symbol): void => defineMetadata(key, value, target, property)
}

const R = Reflect as unknown as Record<string, unknown>
if (typeof R.getMetadata !== 'function') {
  Object.assign(R, { getMetadata, getOwnMetadata, defineMetadata, hasMetadata, metadata })
}
