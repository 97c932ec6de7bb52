import t from 'tap'
import { buildBaseline } from '../../bench/baseline.js'
import type { Run } from '../../bench/measure.js'
import { benchRun } from './bench-fakes.js'
import { readOptions } from '../../bench/options.js'
import { baselineComparison, peerTable, summarise } from '../../bench/report.js'

const run = (target: Run['target'], rep: number, rps: number, cpu: number): Run => benchRun(target, rep, rps, cpu, 140 * 1024)

t.test('BENCH_BASELINE names the ref to compare with; unset or empty, there is no baseline', async (t) => {
  t.equal(readOptions({ PATH: '' }).baseline, undefined)
  t.equal(readOptions({ PATH: '', BENCH_BASELINE: '' }).baseline, undefined)
  t.equal(readOptions({ PATH: '', BENCH_BASELINE: 'HEAD~1' }).baseline, 'HEAD~1')
})

t.test('the baseline is a target like the others, and the comparison line gives gateway / baseline', async (t) => {
  const runs = [
    run('baseline', 1, 5000, 200), run('gateway', 1, 5500, 180),
    run('baseline', 2, 5000, 200), run('gateway', 2, 5000, 190),
    run('baseline', 3, 4000, 250), run('gateway', 3, 4800, 200)
  ]
  const s = summarise(runs, 3, 0)
  t.match(peerTable(s), /baseline\s+5000\s+200\.0\s+140\.0/)
  const baseline = { ref: 'main', sha: '8576604b1d1e7a6e2f8c6a5b4c3d2e1f0a9b8c7d', peakRssKb: 151 * 1024, idleRssKb: 97.5 * 1024 }
  t.equal(baselineComparison(s, baseline, { peakRssKb: 140.2 * 1024, idleRssKb: 98.1 * 1024 }), [
    'gateway vs baseline (main = 8576604): req/s ×1.10, CPU µs/req ×0.90, peak RSS 140.2 vs 151.0 MB',
    '  per repetition: req/s ×1.10 ×1.00 ×1.20; CPU µs/req ×0.90 ×0.95 ×0.80; idle RSS 98.1 vs 97.5 MB'
  ].join('\n'))
})

t.test('a ref that is not a commit fails before anything is built, naming the ref', async (t) => {
  await t.rejects(buildBaseline('no-such-ref-for-the-bench'), /BENCH_BASELINE=no-such-ref-for-the-bench: not a commit/)
})
