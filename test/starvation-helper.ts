import type { Test } from 'tap'
import { call, startWorld, withKey, TENANT_A, TENANT_B, type TestWorld, type WorldOptions } from './helper.js'
import { destroyPeers } from './slow-peers.js'

// Shared by the starvation tests (issue 13, item 3): a gateway with a small upstream pool, big exports to
// stall, and what the overload metrics say.

export const EXPORT = `/tenants/${TENANT_A}/api/machines/SoftwareInventoryByMachine?pageSize=200000`
export const QUERY = `/tenants/${TENANT_A}/api/advancedqueries/run`
export const ALERTS_B = `/tenants/${TENANT_B}/api/alerts?$top=1`
// A write in the default rate class (its budget is out of the way in test worlds): only the pool limits it.
export const ISOLATE = `/tenants/${TENANT_A}/api/machines/4275c337d63a3a63458a050a52b7d10761d5aac9/isolate`

/** A world whose gateway has `connections` per region and the given server.* limits, closed on teardown. */
export async function world (t: Test, server: Record<string, number>, connections: number, extra: WorldOptions = {}): Promise<TestWorld> {
  const w = await startWorld({
    sim: { defender: { ratePerMinute: 100_000 } },
    ...extra,
    config: (base) => ({
      ...base,
      server: { ...base.server, ...server },
      upstream: { ...base.upstream, connections, region: 'eu' },
      limits: { classes: { default: { perMinute: 1_000_000, perHour: 10_000_000 }, exportByMachine: { perMinute: 1_000_000, perHour: 10_000_000 } } }
    })
  })
  // A page of 200,000 records (~140 MB): far more than socket buffers hold, so an idle reader stalls it.
  w.sim.regions.eu!.setExportCount(TENANT_A, 200_000)
  t.teardown(async () => {
    destroyPeers()
    await w.close()
  })
  return w
}

/** defender_gateway_overload_refusals_total for one reason. */
export async function refusals (w: TestWorld, reason: string): Promise<number> {
  const metric = w.gateway.metrics.registry.getSingleMetric('defender_gateway_overload_refusals_total')
  const values = (await metric?.get())?.values ?? []
  return values.find((v) => v.labels.reason === reason)?.value ?? 0
}

/** defender_gateway_in_flight_requests. */
export async function inFlight (w: TestWorld): Promise<number> {
  const metric = w.gateway.metrics.registry.getSingleMetric('defender_gateway_in_flight_requests')
  return (await metric?.get())?.values[0]?.value ?? 0
}

/** Another client, another tenant, the same region: every request must be answered 200. */
export async function victimSucceeds (t: Test, w: TestWorld, times = 5): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await call(w.url, ALERTS_B, { headers: withKey(w.keys.siem) })
    t.equal(res.status, 200, `victim request ${i + 1} answered`)
  }
}
