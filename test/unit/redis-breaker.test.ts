import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import t from 'tap'
import { createRedisBreakerMetrics } from '../../src/observability/redis-breaker-metrics.js'
import { initialState, nextState, probeDelay, type BreakerEvent, type BreakerState } from '../../src/redis/breaker.js'
import { createBreaker } from '../../src/redis/breaker-driver.js'
import { reportBreaker } from '../../src/redis/breaker-report.js'

const NOW = 10_000
const DELAY = 700
const closed: BreakerState = { kind: 'closed', generation: 3, since: 1_000 }
const justClosed: BreakerState = { kind: 'closed', generation: 3, since: NOW - DELAY + 1 }
const open: BreakerState = { kind: 'open', generation: 3, since: 5_000, probeAt: 9_000 }
const probing: BreakerState = { kind: 'probing', generation: 3, since: 5_000 }
const failure = (generation: number): BreakerEvent => ({ type: 'failure', generation, reason: 'timeout' })

t.test('nextState: every (state, event) pair', async (t) => {
  const cases: Array<[string, BreakerState, BreakerEvent, BreakerState]> = [
    ['a failure opens a closed breaker, with a probe at once', closed, failure(3), { kind: 'open', generation: 3, since: NOW, probeAt: NOW }],
    ['a failure within an interval of the last close waits an interval for its probe (PING answers, calls do not)', justClosed, failure(3), { kind: 'open', generation: 3, since: NOW, probeAt: NOW + DELAY }],
    ['a failure of a call begun before the last close is ignored', closed, failure(2), closed],
    ['a lost connection opens it', closed, { type: 'disconnected' }, { kind: 'open', generation: 3, since: NOW, probeAt: NOW + DELAY }],
    ['closed ignores connected', closed, { type: 'connected' }, closed],
    ['closed ignores a stray probe result', closed, { type: 'probe_failed' }, closed],
    ['closed ignores a stray probe timer', closed, { type: 'probe_due' }, closed],
    ['open: the timer starts a probe, the outage start is kept', open, { type: 'probe_due' }, probing],
    ['open: a reconnect closes it, in a new generation', open, { type: 'connected' }, { kind: 'closed', generation: 4, since: NOW }],
    ['open ignores more failures (no call is admitted anyway)', open, failure(3), open],
    ['open ignores disconnected', open, { type: 'disconnected' }, open],
    ['open ignores a stale probe answer', open, { type: 'probe_ok' }, open],
    ['probing: an answer closes it', probing, { type: 'probe_ok' }, { kind: 'closed', generation: 4, since: NOW }],
    ['probing: a reconnect closes it', probing, { type: 'connected' }, { kind: 'closed', generation: 4, since: NOW }],
    ['probing: no answer opens it again, same outage, next probe later', probing, { type: 'probe_failed' }, { kind: 'open', generation: 3, since: 5_000, probeAt: NOW + DELAY }],
    ['probing ignores failures of old calls', probing, failure(3), probing],
    ['probing ignores disconnected (the probe fails by itself)', probing, { type: 'disconnected' }, probing]
  ]
  for (const [name, state, event, want] of cases) t.same(nextState(state, event, NOW, DELAY), want, name)
  t.equal(nextState(closed, failure(2), NOW, DELAY), closed, 'unchanged is the same object (the driver relies on it)')
})

t.test('the breaker starts open until the first connection, generation 0', async (t) => {
  t.same(initialState(1, 2), { kind: 'open', generation: 0, since: 1, probeAt: 2 })
})

t.test('probeDelay: jittered in [0.5, 1.5) x the interval, never 0', async (t) => {
  t.same([0, 0.25, 0.5, 0.999].map((r) => probeDelay(1000, r)), [500, 750, 1000, 1499])
  t.equal(probeDelay(1, 0), 1)
})

/** Timers that fire only when the test says so. */
function fakeTimers (): { schedule: (fn: () => void, ms: number) => () => void, pending: () => number[], fire: () => void } {
  const timers: Array<{ fn: () => void, ms: number, live: boolean }> = []
  const live = (): Array<{ fn: () => void, ms: number, live: boolean }> => timers.filter((x) => x.live)
  return {
    schedule (fn, ms) {
      const timer = { fn, ms, live: true }
      timers.push(timer)
      return () => { timer.live = false }
    },
    pending: () => live().map((x) => x.ms),
    fire () {
      const timer = live()[0]
      if (timer === undefined) throw new Error('no timer')
      timer.live = false
      timer.fn()
    }
  }
}

/** A probe whose answer the test decides. */
function controlledProbe (): { probe: () => Promise<void>, calls: () => number, answer: (ok: boolean) => Promise<void> } {
  const waiting: Array<{ resolve: () => void, reject: (e: Error) => void }> = []
  let calls = 0
  return {
    probe: async () => await new Promise<void>((resolve, reject) => { calls++; waiting.push({ resolve, reject }) }),
    calls: () => calls,
    async answer (ok) {
      const next = waiting.shift()
      if (ok) next?.resolve()
      else next?.reject(new Error('Command timed out'))
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

t.test('driver: open until connected, one failure opens it, probes on a jittered timer until one answers', async (t) => {
  let now = 0
  const timers = fakeTimers()
  const probe = controlledProbe()
  const changes: string[] = []
  const breaker = createBreaker({
    intervalMs: 1000,
    probe: probe.probe,
    now: () => now,
    random: () => 0.2,
    schedule: timers.schedule,
    onChange: (from, to, event) => changes.push(`${from.kind}>${to.kind}:${event.type}`)
  })
  t.equal(breaker.admit(), undefined, 'not connected yet: answer locally')
  t.same(timers.pending(), [700], 'first probe armed, jittered')
  breaker.report({ type: 'connected' })
  t.same(timers.pending(), [], 'connected: no probe timer')
  const generation = breaker.admit() as number
  t.equal(generation, 1)

  now = 1000
  t.equal(breaker.report({ type: 'failure', generation, reason: 'timeout' }), true, 'one failure opens it')
  for (let i = 0; i < 1000; i++) t.equal(breaker.admit(), undefined, `request ${i} skips Redis at once`)
  t.equal(probe.calls(), 0, 'requests never probe: only the timer does')
  t.same(timers.pending(), [0], 'one probe, at once, not one per request')
  t.equal(breaker.report({ type: 'failure', generation, reason: 'timeout' }), false, 'the other in-flight failures change nothing')

  timers.fire()
  t.equal(breaker.state().kind, 'probing')
  t.equal(probe.calls(), 1)
  await probe.answer(false)
  t.equal(breaker.state().kind, 'open', 'no answer: open again')
  t.same(timers.pending(), [700], 'and the next probe armed, jittered')
  now = 1700
  timers.fire()
  await probe.answer(true)
  t.equal(breaker.state().kind, 'closed', 'an answer closes it')
  t.equal(breaker.admit(), 2, 'in a new generation')
  t.equal(breaker.report({ type: 'failure', generation, reason: 'error' }), false, 'a late failure of a call from before the outage does not reopen it')
  t.equal(breaker.admit(), 2)
  now = 1800
  t.equal(breaker.report({ type: 'failure', generation: 2, reason: 'timeout' }), true, 'a Redis that answers PING but not our calls fails again')
  t.same(timers.pending(), [700], 'so soon after closing: the next probe waits an interval (one timeout per interval, not per request)')
  t.same(changes, ['open>closed:connected', 'closed>open:failure', 'open>probing:probe_due', 'probing>open:probe_failed', 'open>probing:probe_due', 'probing>closed:probe_ok', 'closed>open:failure'])
})

t.test('driver: a reconnect closes an open breaker and cancels its probe; stop ends everything', async (t) => {
  const timers = fakeTimers()
  const probe = controlledProbe()
  const breaker = createBreaker({ intervalMs: 100, probe: probe.probe, now: () => 0, random: () => 0.5, schedule: timers.schedule })
  breaker.report({ type: 'connected' })
  breaker.report({ type: 'disconnected' })
  t.same(timers.pending(), [100])
  breaker.report({ type: 'connected' })
  t.same(timers.pending(), [], 'probe cancelled')
  breaker.report({ type: 'disconnected' })
  breaker.stop()
  t.same(timers.pending(), [], 'stop cancels the timer')
  t.equal(breaker.report({ type: 'connected' }), false, 'events after stop are ignored')
  t.equal(breaker.admit(), undefined)
  t.equal(probe.calls(), 0)
})

t.test('driver with real timers: the probe runs in the background, unref\'d', async (t) => {
  let answered!: () => void
  const probed = new Promise<void>((resolve) => { answered = resolve })
  const breaker = createBreaker({ intervalMs: 10, probe: async () => { answered() } })
  // The probe timer is unref'd (it must not keep a closing gateway alive), so this test keeps the loop up.
  const keepAlive = setInterval(() => {}, 1000)
  t.teardown(() => { clearInterval(keepAlive) })
  await probed
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(breaker.state().kind, 'closed', 'the first probe answered: closed without a request')
  breaker.stop()
})

t.test('report: state gauge, opens by reason, time in fallback (an outage in progress too), one log line per close', async (t) => {
  const registry = new Registry()
  const metrics = createRedisBreakerMetrics(registry)
  t.equal(createRedisBreakerMetrics(registry), metrics, 'once per registry')
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _e, cb) { lines.push(JSON.parse(chunk.toString())); cb() } })
  let now = 0
  const report = reportBreaker(pino({ level: 'info' }, sink), metrics, () => now)
  const value = async (name: string): Promise<number> => (await registry.getSingleMetric(name)?.get())?.values.reduce((s, v) => s + v.value, 0) ?? 0
  t.equal(await value('defender_gateway_redis_breaker_state'), 1, 'starts open')
  now = 2000
  t.equal(await value('defender_gateway_redis_fallback_seconds_total'), 2, 'before the first connection counts')
  report.onChange(initialState(0, 0), { kind: 'closed', generation: 1, since: 2000 }, { type: 'connected' })
  now = 3000
  t.equal(await value('defender_gateway_redis_fallback_seconds_total'), 2, 'not while closed')
  report.onChange({ kind: 'closed', generation: 1, since: 2000 }, { kind: 'open', generation: 1, since: 3000, probeAt: 3100 }, failure(1))
  now = 3500
  t.equal(await value('defender_gateway_redis_fallback_seconds_total'), 2.5, 'an outage in progress counts at each scrape')
  report.onChange({ kind: 'open', generation: 1, since: 3000, probeAt: 3100 }, { kind: 'probing', generation: 1, since: 3000 }, { type: 'probe_due' })
  t.equal(await value('defender_gateway_redis_breaker_state'), 2, 'probing')
  now = 4000
  report.onChange({ kind: 'probing', generation: 1, since: 3000 }, { kind: 'closed', generation: 2, since: 4000 }, { type: 'probe_ok' })
  t.equal(await value('defender_gateway_redis_breaker_state'), 0)
  t.equal(await value('defender_gateway_redis_fallback_seconds_total'), 3)
  report.onChange({ kind: 'closed', generation: 2, since: 4000 }, { kind: 'open', generation: 2, since: 4000, probeAt: 4100 }, { type: 'disconnected' })
  t.same((await metrics.opens.get()).values.map((v) => [v.labels.reason, v.value]), [['timeout', 1], ['disconnected', 1]])
  t.same(lines.map((l) => [l.msg, l.outageMs]), [['redis answered a probe; breaker closed, budgets and tokens are shared again', 1000]])
  now = 5000
  report.stop()
  t.equal(await value('defender_gateway_redis_fallback_seconds_total'), 4, 'stop settles the outage')
  now = 9000
  t.equal(await value('defender_gateway_redis_fallback_seconds_total'), 4, 'and stops counting')
})
