/** Why Redis cannot be used, in words an operator acts on; never the server's text (it may echo input). */
export type RedisFailure = 'auth' | 'refused' | 'tls' | 'timeout' | 'dns' | 'other'

const AUTH = /WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed|no password is set/i
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|CERT_|HOSTNAME_MISMATCH)/

/**
 * The class of one ioredis error. Sentinel and cluster errors wrap the last node's error in their own
 * message ("All sentinels are unreachable ... Last error: NOAUTH ..."), so the message is searched too.
 */
export function classifyRedisFailure (err: Error & { code?: unknown }): RedisFailure {
  const code = typeof err.code === 'string' ? err.code : ''
  const text = `${code} ${err.message}`
  if (AUTH.test(text)) return 'auth'
  if (TLS_CODES.test(code) || /certificate|\bSSL\b|\bTLS\b|wrong version number/i.test(err.message)) return 'tls'
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH/.test(text)) return 'refused'
  if (/ETIMEDOUT|timed? ?out/i.test(text)) return 'timeout'
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return 'dns'
  return 'other'
}

/** One warning's fields: the class, a safe error code, and how many failures it stands for. */
export interface FailureLine { failure: RedisFailure, code: string | undefined, failures: number }

/**
 * Turns a stream of connection errors (ioredis emits one per reconnect attempt, every 2 s) into warnings
 * at a bounded rate: the first at once, then one per `intervalMs` while it lasts (or at once when the
 * class changes), each counting the failures it stands for. `ok()` ends the episode.
 */
export class FailureReporter {
  #last: { at: number, failure: RedisFailure } | undefined
  #count = 0
  constructor (private readonly intervalMs: number, private readonly now: () => number = Date.now) {}

  note (err: Error & { code?: unknown }): FailureLine | undefined {
    this.#count++
    const failure = classifyRedisFailure(err)
    const at = this.now()
    if (this.#last !== undefined && this.#last.failure === failure && at - this.#last.at < this.intervalMs) return undefined
    const code = typeof err.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(err.code) ? err.code : undefined
    const line = { failure, code, failures: this.#count }
    this.#last = { at, failure }
    this.#count = 0
    return line
  }

  ok (): void {
    this.#last = undefined
    this.#count = 0
  }
}
