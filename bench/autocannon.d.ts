/** The part of autocannon 8's API the bench uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  interface Options {
    url: string
    method?: string
    headers?: Record<string, string>
    connections?: number
    duration?: number
    timeout?: number
    pipelining?: number
  }

  interface Histogram { average: number, p50: number, p99: number, total: number }

  interface Result {
    latency: Histogram
    requests: Histogram & { sent: number }
    duration: number
    errors: number
    timeouts: number
    resets: number
    non2xx: number
    '2xx': number
    statusCodeStats: Record<string, { count: number }>
  }

  interface Instance extends EventEmitter, PromiseLike<Result> {
    stop (): void
  }

  function autocannon (options: Options): Instance
  export default autocannon
}
