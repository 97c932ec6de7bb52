import { Counter, type Registry } from 'prom-client'

/** What the answer rewriter refused or removed, so an operator sees a hostile or odd upstream at once. */
export interface RewriteMetrics {
  readonly linksRemoved: Counter<'reason'>
  readonly answersRefused: Counter<'reason'>
  readonly inflatedBytes: Counter
}

export function createRewriteMetrics (registry: Registry): RewriteMetrics {
  const registers = [registry]
  return {
    linksRemoved: new Counter({ name: 'defender_gateway_next_links_removed_total', help: '@odata.nextLink values removed from answers because they did not point at a known Defender host and /api path.', labelNames: ['reason'], registers }),
    answersRefused: new Counter({ name: 'defender_gateway_upstream_answers_refused_total', help: 'Defender answers the gateway refused to pass on (inflated beyond the limits; a nextLink that is not a string, has an escaped key or too much whitespace; an unknown or stacked Content-Encoding; a charset other than UTF-8; a status code outside 200-599).', labelNames: ['reason'], registers }),
    inflatedBytes: new Counter({ name: 'defender_gateway_upstream_inflated_bytes_total', help: 'Bytes the gateway inflated from compressed Defender answers it rewrote.', registers })
  }
}
