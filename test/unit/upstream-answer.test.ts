import t from 'tap'
import { errors, type Dispatcher } from 'undici'
import { AnswerTooLong, UpstreamAnswer, type AnswerEvents } from '../../src/proxy/upstream-answer.js'

// The dispatch handler driven as undici drives it: a controller whose abort ends the call at once with
// onResponseError (undici's errorRequest is synchronous), and whose pause/resume are only recorded.

class FakeController implements Dispatcher.DispatchController {
  aborted = false
  paused = false
  reason: Error | null = null
  resumes = 0

  constructor (private readonly answer: UpstreamAnswer<string>) {}

  abort (reason: Error): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.answer.onResponseError(this, reason)
  }

  pause (): void { this.paused = true }

  resume (): void {
    this.paused = false
    this.resumes++
  }
}

/** What the events saw: the answers (with the target), the failures, the throws of `answered`. */
interface Seen { answered: string[], failed: Error[], broken: Error[] }

function newAnswer (onAnswer: (answer: UpstreamAnswer<string>) => void = () => {}): { answer: UpstreamAnswer<string>, controller: FakeController, seen: Seen } {
  const seen: Seen = { answered: [], failed: [], broken: [] }
  const events: AnswerEvents<string> = {
    answered (target, answer) {
      seen.answered.push(target)
      onAnswer(answer)
    },
    failed (_target, error) { seen.failed.push(error) },
    broken (_target, error) { seen.broken.push(error) }
  }
  const answer = new UpstreamAnswer('call', events)
  return { answer, controller: new FakeController(answer), seen }
}

/** lets queued microtasks (the handler's deferred reports) run */
const settled = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

t.test('an abort before undici starts the request is applied when it does, and reported as the call\'s failure', async (t) => {
  const { answer, controller, seen } = newAnswer()
  const deadline = new Error('deadline')
  answer.abort(deadline)
  await settled()
  t.same(seen.failed, [], 'nothing to report while the request waits in the queue')
  answer.onRequestStart(controller)
  t.ok(controller.aborted, 'aborted as soon as undici starts it')
  t.equal(controller.reason, deadline)
  t.same(seen.failed, [], 'reported out of undici\'s callback (a failover sends the request again from there)')
  await settled()
  t.same(seen.failed, [deadline])
  t.same(seen.answered, [])
})

t.test('an abort after the start goes straight to undici; no reason given means undici\'s RequestAbortedError', async (t) => {
  const { answer, controller, seen } = newAnswer()
  answer.onRequestStart(controller)
  answer.abort()
  t.ok(controller.reason instanceof errors.RequestAbortedError)
  await settled()
  t.equal(seen.failed.length, 1)
})

t.test('1xx answers are skipped; the final answer is reported once, with its status and headers', async (t) => {
  const { answer, controller, seen } = newAnswer()
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 103, { link: '</x>; rel=preload' })
  t.same(seen.answered, [])
  t.equal(answer.statusCode, 0)
  answer.onResponseStart(controller, 200, { 'content-length': '2' })
  t.same(seen.answered, ['call'])
  t.equal(answer.statusCode, 200)
  t.same(answer.headers, { 'content-length': '2' })
})

t.test('collect: the chunks, whole at the end, reported after undici\'s callback returns', async (t) => {
  let result: [Error | null, Buffer | undefined] | undefined
  const { answer, controller } = newAnswer((a) => { a.collect(10, (err, body) => { result = [err, body] }) })
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 200, {})
  answer.onResponseData(controller, Buffer.from('{"a":'))
  answer.onResponseData(controller, Buffer.from('1}'))
  answer.onResponseEnd()
  t.equal(result, undefined, 'not from within undici\'s parser callback')
  await settled()
  t.same(result, [null, Buffer.from('{"a":1}')])
  t.notOk(controller.paused)
})

t.test('collect: more than the limit aborts the call and reports AnswerTooLong', async (t) => {
  let failure: Error | null | undefined
  const { answer, controller } = newAnswer((a) => { a.collect(4, (...result) => { failure = result[0] }) })
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 200, {})
  answer.onResponseData(controller, Buffer.from('1234'))
  t.notOk(controller.aborted, 'up to the limit is fine')
  answer.onResponseData(controller, Buffer.from('5'))
  t.ok(controller.aborted, 'one byte more aborts the call')
  t.ok(controller.reason instanceof AnswerTooLong)
  await settled()
  t.ok(failure instanceof AnswerTooLong)
  t.equal(failure?.message, 'upstream body longer than its content-length')
})

t.test('collect: an error after the headers (connection lost, deadline) reaches the collector, not the call\'s failure', async (t) => {
  let failure: Error | null | undefined
  const { answer, controller, seen } = newAnswer((a) => { a.collect(100, (...result) => { failure = result[0] }) })
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 200, {})
  answer.onResponseData(controller, Buffer.from('{"va'))
  const lost = new Error('other side closed')
  answer.onResponseError(controller, lost)
  await settled()
  t.equal(failure, lost)
  t.same(seen.failed, [])
  const deadline = newAnswer((a) => { a.collect(100, (...result) => { failure = result[0] }) })
  deadline.answer.onRequestStart(deadline.controller)
  deadline.answer.onResponseStart(deadline.controller, 200, {})
  deadline.answer.abort()
  await settled()
  t.ok(failure instanceof errors.RequestAbortedError, 'gw.abortUpstream after the headers ends the collection')
})

t.test('stream: a full buffer pauses undici, a read resumes it', async (t) => {
  const { answer, controller } = newAnswer((a) => { a.stream() })
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 200, {})
  const body = answer.stream()
  answer.onResponseData(controller, Buffer.alloc(16 * 1024))
  t.notOk(controller.paused, 'room left in the buffer')
  answer.onResponseData(controller, Buffer.alloc(48 * 1024))
  t.ok(controller.paused, '64 KiB unread: undici is paused')
  t.equal((body.read() as Buffer).length, 64 * 1024)
  await settled()
  t.notOk(controller.paused, 'the consumer read: undici goes on')
  t.ok(controller.resumes > 0)
  answer.onResponseData(controller, Buffer.from('end'))
  answer.onResponseEnd()
  t.equal((body.read() as Buffer).toString(), 'end')
})

t.test('stream: destroyed before its end aborts the call; after its end it does not', async (t) => {
  const early = newAnswer((a) => { a.stream() })
  early.answer.onRequestStart(early.controller)
  early.answer.onResponseStart(early.controller, 200, {})
  early.answer.onResponseData(early.controller, Buffer.from('{"value":['))
  early.answer.stream().destroy()
  t.ok(early.controller.aborted, 'the caller went away: the call is aborted, so undici closes the connection')
  t.ok(early.controller.reason instanceof errors.RequestAbortedError)
  const failed = newAnswer((a) => { a.stream() })
  failed.answer.onRequestStart(failed.controller)
  failed.answer.onResponseStart(failed.controller, 200, {})
  const refused = new Error('a stage refused the answer')
  failed.answer.stream().on('error', () => {}).destroy(refused)
  t.equal(failed.controller.reason, refused, 'a stage\'s error aborts the call too')
  const whole = newAnswer((a) => { a.stream() })
  whole.answer.onRequestStart(whole.controller)
  whole.answer.onResponseStart(whole.controller, 200, {})
  whole.answer.onResponseData(whole.controller, Buffer.from('{}'))
  whole.answer.onResponseEnd()
  const body = whole.answer.stream()
  body.resume()
  await new Promise((resolve) => body.once('end', resolve))
  body.destroy()
  t.notOk(whole.controller.aborted, 'read to its end: nothing to abort')
})

t.test('stream: an error after the headers destroys the stream with that error', async (t) => {
  const { answer, controller, seen } = newAnswer((a) => { a.stream() })
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 200, {})
  const body = answer.stream()
  let got: Error | undefined
  body.once('error', (err) => { got = err })
  const timeout = new errors.BodyTimeoutError()
  answer.onResponseError(controller, timeout)
  await settled()
  t.equal(got, timeout)
  t.ok(body.destroyed)
  t.same(seen.failed, [])
})

t.test('a body nobody takes is dropped as it arrives: undici never paused, the call not aborted', async (t) => {
  const { answer, controller } = newAnswer()
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 401, {})
  for (let i = 0; i < 10; i++) answer.onResponseData(controller, Buffer.alloc(64 * 1024))
  answer.onResponseEnd()
  t.notOk(controller.paused)
  t.notOk(controller.aborted)
})

t.test('a throw from the answered event aborts the call and reaches the events, never the process', async (t) => {
  // Before: the error was thrown again in a microtask, an uncaught exception (a process exit, and a tap
  // failure here) that bytes from Defender could trigger.
  const bug = new TypeError('bug')
  let collected: Error | null | undefined
  const { answer, controller, seen } = newAnswer((a) => {
    a.collect(100, (...result) => { collected = result[0] })
    throw bug
  })
  answer.onRequestStart(controller)
  answer.onResponseStart(controller, 200, {})
  t.equal(controller.reason, bug, 'the call is aborted with the error')
  t.same(seen.broken, [], 'reported out of undici\'s callback')
  await settled()
  t.same(seen.broken, [bug], 'the error reaches the events once')
  t.same(seen.failed, [], 'not a failure of the call to Defender (no failover, no region failure)')
  t.equal(collected, bug, 'a body being collected ends with it too')
})
