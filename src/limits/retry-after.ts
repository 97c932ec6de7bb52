/**
 * Seconds to wait from an upstream Retry-After header (delta-seconds or an HTTP-date, RFC 9110
 * §10.2.3), so an upstream 429 can hold its budget; undefined when absent or unreadable.
 */
export function parseRetryAfter (value: unknown, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (typeof text !== 'string' || text.trim() === '') return undefined
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  // HTTP-dates end in GMT; anything else Date.parse would guess at ('-5', '1.5') is not one.
  const at = trimmed.endsWith('GMT') ? Date.parse(trimmed) : Number.NaN
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - now) / 1000))
}
