import { createTestCa, startEntra } from '../test/sim/index.js'

/**
 * The simulated Entra ID in a process of its own for bench/tenant-scale.ts, so the RSS measured there
 * is the gateway's token state and not the simulator's TLS server and bookkeeping.
 */

interface Init { clientId: string, secret: string, tenants: string[] }
interface Ask { type: 'count', tenant?: string }

process.once('message', (init: Init) => {
  (async () => {
    const ca = await createTestCa()
    const grants = Object.fromEntries(init.tenants.map((t) => [t, ['Alert.Read.All']]))
    const entra = await startEntra({ ca, clientId: init.clientId, clientSecrets: [init.secret], grants })
    process.on('message', (ask: Ask) => {
      if (ask.type === 'count') process.send?.({ count: entra.tokenRequests(ask.tenant) })
    })
    process.on('disconnect', () => { entra.close().then(() => process.exit(0), () => process.exit(1)) })
    process.send?.({ url: entra.url, caPem: ca.certPem })
  })().catch((err: unknown) => { console.error(err); process.exit(1) })
})
