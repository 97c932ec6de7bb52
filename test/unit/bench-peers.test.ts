import t from 'tap'
import { benchRun } from './bench-fakes.js'
import { readOptions } from '../../bench/options.js'
import { startPeers } from '../../bench/peers.js'
import { peerTable, summarise } from '../../bench/report.js'
import type { UpstreamReady } from '../../bench/upstream-process.js'

const run = benchRun

t.test('the gateway is compared with every peer, per repetition, then the median', async (t) => {
  const runs = [
    run('direct', 1, 20_000), run('bare-node', 1, 8000, 100, 100 * 1024), run('fastify', 1, 7000, 110, 105 * 1024), run('gateway', 1, 6000, 150, 140 * 1024),
    run('direct', 2, 20_000), run('bare-node', 2, 6000, 120, 110 * 1024), run('fastify', 2, 7000, 110, 108 * 1024), run('gateway', 2, 5400, 150, 150 * 1024),
    run('direct', 3, 20_000), run('bare-node', 3, 7000, 100, 90 * 1024), run('fastify', 3, 6000, 100, 100 * 1024), run('gateway', 3, 6300, 140, 145 * 1024)
  ]
  const s = summarise(runs, 3, 0)
  t.same(s.ratios['bare-node']?.rps, [0.75, 0.9, 0.9])
  t.equal(s.ratios['bare-node']?.medianRps, 0.9, 'the median of the per-repetition ratios, not a ratio of medians')
  t.same(s.ratios['bare-node']?.cpuPerReq, [1.5, 1.25, 1.4])
  t.equal(s.ratios['bare-node']?.medianCpuPerReq, 1.4)
  t.same(s.ratios.direct?.cpuPerReq, [], 'direct has no proxy CPU')
  t.equal(s.saturation.gateway?.peakRssMb, 150, 'peak RSS is the highest of the runs')
  t.equal(s.ratios.gateway, undefined)
  const table = peerTable(s)
  t.match(table, /bare-node\s+7000\s+100\.0\s+110\.0/)
  t.match(table, /gateway\s+6000\s+150\.0\s+150\.0/)
  t.match(table, /0\.75 0\.90 0\.90/)
})

t.test('a peer whose binary is missing is named in the notes and skipped, not the end of the run', async (t) => {
  const opts = { ...readOptions({ PATH: '/nonexistent', BENCH_PEERS: 'haproxy' }), haproxy: undefined }
  const notes: string[] = []
  const stops: Array<() => Promise<void>> = []
  const up = { caFile: '/nonexistent/ca.pem', caPem: '', token: 't' } as unknown as UpstreamReady
  const peers = await startPeers(opts, up, 'https://127.0.0.1:1', stops, notes)
  t.same(peers, [])
  t.same(stops, [])
  t.match(notes, [/haproxy not found/])
})

t.test('BENCH_PEERS: a typo is an error, not a silently missing peer', async (t) => {
  t.same(readOptions({ PATH: '' }).peers, ['haproxy', 'fastify', 'bare-node'])
  t.same(readOptions({ PATH: '', BENCH_PEERS: '' }).peers, [])
  t.same(readOptions({ PATH: '', BENCH_PEERS: 'fastify, bare-node' }).peers, ['fastify', 'bare-node'])
  t.throws(() => readOptions({ PATH: '', BENCH_PEERS: 'haproxy,envoy' }), /unknown peer envoy/)
})
