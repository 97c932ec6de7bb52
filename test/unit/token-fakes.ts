import { TokenError, type AcquiredToken, type TokenSource } from '../../src/tokens/types.js'
import type { Schedule } from '../../src/tokens/refresh.js'

/** Shared fakes for the token unit tests: a clock that runs timers when told, and a scripted source. */

/** The resource the unit tests' providers expect (the public cloud's, as wiring derives it). */
export const RESOURCE = 'https://api.securitycenter.microsoft.com'

/** A JWT-shaped token with the claims the provider reads (signature irrelevant here); `aud` is RESOURCE unless given. */
export function jwt (claims: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'none' })}.${part({ aud: RESOURCE, ...claims })}.sig`
}

export interface FakeClock {
  now: number
  readonly schedule: Schedule
  /** timers not yet run nor cancelled */
  pending (): number
  /** moves time forward, running every timer that falls due on the way, in order */
  advance (ms: number): Promise<void>
}

/** Lets promise chains started by a timer or a call run to their end. */
export async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

export function fakeClock (start = 1_000_000): FakeClock {
  const timers: Array<{ at: number, fn: () => void, live: boolean }> = []
  const clock: FakeClock = {
    now: start,
    schedule (fn, ms) {
      const timer = { at: clock.now + ms, fn, live: true }
      timers.push(timer)
      return () => { timer.live = false }
    },
    pending: () => timers.filter((t) => t.live).length,
    async advance (ms) {
      const end = clock.now + ms
      for (let guard = 0; guard < 1000; guard++) {
        const due = timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0]
        if (due === undefined) break
        due.live = false
        clock.now = Math.max(clock.now, due.at)
        due.fn()
        await settle()
      }
      clock.now = end
      await settle()
    }
  }
  return clock
}

/** One answer of the fake source: a token, a thrown error, or held until the test releases it. */
export type Answer = (tenant: string) => Promise<AcquiredToken>

export interface FakeSource extends TokenSource {
  calls: string[]
  forgotten: string[]
  closed: boolean
  next: Answer[]
  /** the token lifetime of unscripted answers */
  lifetimeMs: number
}

/** A scripted token source: each acquire takes the next scripted answer, else a fresh token. */
export function fakeSource (clock: { now: number }): FakeSource {
  const source: FakeSource = {
    calls: [],
    forgotten: [],
    closed: false,
    next: [],
    lifetimeMs: 3600_000,
    async acquire (tenant) {
      source.calls.push(tenant)
      const scripted = source.next.shift()
      if (scripted !== undefined) return await scripted(tenant)
      return { accessToken: jwt({ tid: tenant, roles: ['Alert.Read.All'], n: source.calls.length }), expiresOn: clock.now + source.lifetimeMs }
    },
    forget (tenant) { source.forgotten.push(tenant) },
    close () { source.closed = true }
  }
  return source
}

/** An answer that throws what msal throws for an HTTP status (with an AADSTS code when given). */
export function msalError (status: number, aadsts?: number, errorCode = status === 401 ? 'invalid_client' : 'server_error'): Answer {
  return async () => { throw Object.assign(new Error(`AADSTS${aadsts ?? 90033}: simulated`), { errorCode, status, errorNo: aadsts === undefined ? undefined : String(aadsts) }) }
}

/** An answer that throws an already classified error (what the msal source throws). */
export function tokenError (kind: TokenError['kind'], retryAfterSeconds?: number): Answer {
  return async () => { throw new TokenError(kind, `simulated ${kind}`, undefined, retryAfterSeconds) }
}

/** An answer held until `release` is called, to see who waits for it. */
export function held (): { answer: Answer, release: (token?: AcquiredToken) => void } {
  let open!: (token: AcquiredToken | undefined) => void
  const gate = new Promise<AcquiredToken | undefined>((resolve) => { open = resolve })
  return {
    answer: async (tenant) => (await gate) ?? { accessToken: jwt({ tid: tenant, roles: [] }), expiresOn: Date.now() + 3600_000 },
    release: (token) => open(token)
  }
}

/** The failure class (and AADSTS code and retry hint) a promise rejected with. */
export async function failure (promise: Promise<unknown>): Promise<{ kind: string, aadsts?: number, message: string, retryAfterSeconds?: number }> {
  try {
    await promise
  } catch (err) {
    const e = err as TokenError
    return { kind: e.kind, aadsts: e.aadsts, message: e.message, retryAfterSeconds: e.retryAfterSeconds }
  }
  throw new Error('expected a rejection')
}
