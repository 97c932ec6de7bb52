/** Per-tenant Graph security data of the simulator: alerts_v2 and incidents, generated deterministically. */
export interface GraphAlert {
  id: string
  incidentId: string
  title: string
  severity: string
  status: string
  serviceSource: string
  createdDateTime: string
  lastUpdateDateTime: string
}

export interface GraphTenantData { alerts: GraphAlert[], incidents: Array<{ id: string, displayName: string, status: string, severity: string }> }

const SEVERITIES = ['low', 'medium', 'high', 'informational']

/** `count` alerts (ids `da{tenant-prefix}_{n}`) in count/3 incidents, oldest first. */
export function graphTenantData (tenant: string, count: number): GraphTenantData {
  const base = Date.UTC(2026, 10, 1)
  const alerts = Array.from({ length: count }, (_v, i): GraphAlert => ({
    id: `da${tenant.slice(0, 8)}_${String(i).padStart(5, '0')}`,
    incidentId: String(1000 + Math.floor(i / 3)),
    title: `Simulated alert ${i}`,
    severity: SEVERITIES[i % SEVERITIES.length]!,
    status: 'new',
    serviceSource: 'microsoftDefenderForEndpoint',
    createdDateTime: new Date(base + i * 60_000).toISOString(),
    lastUpdateDateTime: new Date(base + i * 60_000).toISOString()
  }))
  const incidents = Array.from({ length: Math.ceil(count / 3) }, (_v, i) => ({ id: String(1000 + i), displayName: `Simulated incident ${i}`, status: 'active', severity: 'medium' }))
  return { alerts, incidents }
}

/** The `huntingQueryResults` of a query: `| take N` decides the rows (default 3), like a tiny KQL. */
export function huntingResults (query: string): { schema: Array<{ name: string, type: string }>, results: Array<Record<string, unknown>> } {
  const take = /\|\s*take\s+(\d{1,4})/i.exec(query)
  const rows = Math.min(Number(take?.[1] ?? 3), 1000)
  return {
    schema: [{ name: 'Timestamp', type: 'DateTime' }, { name: 'DeviceName', type: 'String' }, { name: 'ActionType', type: 'String' }],
    results: Array.from({ length: rows }, (_v, i) => ({ Timestamp: new Date(Date.UTC(2026, 10, 2, 0, i)).toISOString(), DeviceName: `host-${i}`, ActionType: 'ProcessCreated' }))
  }
}
