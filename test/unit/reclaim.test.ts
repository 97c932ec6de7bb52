import t from 'tap'
import { RECLAIM_BYTES, reclaimAfter, reclaiming } from '../../src/proxy/reclaim.js'

// The big-answers test shows the memory effect; this one pins that the collector is there on the Node
// running the suite (20 and 24 in CI), so a runtime that stops exposing it fails here, not as RSS noise.
t.test('the young-generation collection is available and safe to ask for at any count', async (t) => {
  t.equal(reclaiming, true, 'gc exposed to a new context on this Node')
  t.doesNotThrow(() => { for (let i = 0; i < 5; i++) reclaimAfter(RECLAIM_BYTES / 2 + 1) })
})
