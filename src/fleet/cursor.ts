import { createHmac, timingSafeEqual } from 'node:crypto'
import { deflateRawSync, inflateRawSync } from 'node:zlib'

/**
 * Size bounds of a fleet cursor, chosen so that the encoded cursor stays under `maxChars` even if
 * nothing in it compresses: target ≤ 1024 + 48 tenants × ≤ 52 + tails ≤ 1536 (JSON-escaped lengths)
 * → ≤ 5.2 KB raw, ≤ 7 KB in base64url. Tenants already done are not listed at all: they are the ones up
 * to `frontier` (ids in sorted order) that are not in progress, so the size does not grow with the fleet.
 */
export const CURSOR_BOUNDS = {
  /** the original `/api/...?query` carried for every page */
  maxTarget: 1024,
  /** one tenant's next-page link beyond what it shares with the target */
  maxTail: 1024,
  /** every tail of one cursor together */
  tailBudget: 1536,
  /** tenants in progress (fleet.maxTenantsInProgress is at most this) */
  maxInProgress: 48,
  /** the encoded cursor; a longer one is refused unread */
  maxChars: 8192
} as const

/** Where one tenant is: its first page (no link) or the path+query of its next page (from Defender's nextLink). */
export interface TenantPosition {
  /** lowercase GUID */
  readonly tenant: string
  readonly link?: string
  /** transient failures so far in this iteration (after fleet.maxTenantFailures the tenant is dropped) */
  readonly failures?: number
}

/** Everything a fleet iteration needs between pages; signed, bound to one client. */
export interface CursorState {
  /** the original upstream path and query, e.g. `/api/alerts?$top=100` */
  readonly target: string
  /** the highest tenant id started ('' before the first); every eligible tenant up to it not in `active` is done */
  readonly frontier: string
  /** tenants started and not done, in the order the next page reads them */
  readonly active: readonly TenantPosition[]
  /** seconds since the epoch when the iteration began */
  readonly issuedAt: number
  /** digest of the tenants X-Gateway-Tenants named on the first page (absent: not narrowed); every page must send the same */
  readonly narrowing?: string
}

export type CursorCheck = { readonly ok: true, readonly state: CursorState } | { readonly ok: false, readonly reason: string }

const VERSION = 1
const MAC_BYTES = 16
const GUID_HEX = /^[0-9a-f]{32}$/
const B64URL = /^[A-Za-z0-9_-]+$/

/** Whether an original path+query fits a cursor (its JSON-escaped length). */
export function targetFits (target: string): boolean {
  return JSON.stringify(target).length - 2 <= CURSOR_BOUNDS.maxTarget
}

/** Splits a next-page link into what it shares with the target and the rest (compact when they share a prefix). */
export function tailOf (target: string, link: string): { keep: number, tail: string } {
  let keep = 0
  const max = Math.min(target.length, link.length)
  while (keep < max && target.charCodeAt(keep) === link.charCodeAt(keep)) keep++
  return { keep, tail: link.slice(keep) }
}

/** The size a position takes from the cursor's tail budget. */
export function tailLength (target: string, position: TenantPosition): number {
  return position.link === undefined ? 0 : JSON.stringify(tailOf(target, position.link).tail).length - 2
}

/** Signs and encodes a state for `client`; throws when a bound is broken (the page planner keeps to them). */
export function encodeCursor (state: CursorState, client: string, key: Buffer): string {
  if (!targetFits(state.target)) throw new RangeError('cursor target too long')
  if (state.active.length > CURSOR_BOUNDS.maxInProgress) throw new RangeError('too many tenants in progress')
  let tails = 0
  const active = state.active.map((p) => {
    if (p.link === undefined) return [hex(p.tenant), p.failures ?? 0]
    const { keep, tail } = tailOf(state.target, p.link)
    tails += JSON.stringify(tail).length - 2
    return [hex(p.tenant), p.failures ?? 0, keep, tail]
  })
  if (tails > CURSOR_BOUNDS.tailBudget) throw new RangeError('cursor tails over budget')
  const body = JSON.stringify({ v: VERSION, q: state.target, f: state.frontier === '' ? '' : hex(state.frontier), a: active, t: state.issuedAt, ...(state.narrowing === undefined ? {} : { n: state.narrowing }) })
  const payload = deflateRawSync(Buffer.from(body, 'utf8'))
  const out = Buffer.concat([Buffer.from([VERSION]), mac(key, client, payload), payload]).toString('base64url')
  if (out.length > CURSOR_BOUNDS.maxChars) throw new RangeError('cursor too long')
  return out
}

/** Checks and decodes a cursor presented by `client`: size, signature (and so the client), shape, age. */
export function decodeCursor (text: string, client: string, key: Buffer, nowSeconds: number, maxAgeSeconds: number): CursorCheck {
  if (text.length > CURSOR_BOUNDS.maxChars || !B64URL.test(text)) return fail('malformed')
  const raw = Buffer.from(text, 'base64url')
  if (raw.length <= 1 + MAC_BYTES || raw[0] !== VERSION) return fail('malformed')
  const payload = raw.subarray(1 + MAC_BYTES)
  if (!timingSafeEqual(raw.subarray(1, 1 + MAC_BYTES), mac(key, client, payload))) return fail('signature')
  let parsed: unknown
  try {
    parsed = JSON.parse(inflateRawSync(payload, { maxOutputLength: 4 * CURSOR_BOUNDS.maxChars }).toString('utf8'))
  } catch {
    return fail('malformed')
  }
  const state = stateOf(parsed)
  if (state === undefined) return fail('malformed')
  if (state.issuedAt > nowSeconds + 300 || nowSeconds - state.issuedAt > maxAgeSeconds) return fail('expired')
  return { ok: true, state }
}

function stateOf (value: unknown): CursorState | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { v, q, f, a, t, n } = value as Record<string, unknown>
  if (n !== undefined && (typeof n !== 'string' || !GUID_HEX.test(n))) return undefined
  if (v !== VERSION || typeof q !== 'string' || q.length > CURSOR_BOUNDS.maxTarget || typeof t !== 'number' || !Number.isInteger(t)) return undefined
  if (typeof f !== 'string' || (f !== '' && !GUID_HEX.test(f))) return undefined
  if (!Array.isArray(a) || a.length > CURSOR_BOUNDS.maxInProgress) return undefined
  const active: TenantPosition[] = []
  for (const entry of a as unknown[]) {
    const position = positionOf(entry, q)
    if (position === undefined) return undefined
    active.push(position)
  }
  return { target: q, frontier: f === '' ? '' : guid(f), active, issuedAt: t, ...(n === undefined ? {} : { narrowing: n as string }) }
}

function positionOf (entry: unknown, target: string): TenantPosition | undefined {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !GUID_HEX.test(entry[0])) return undefined
  const [, failures, keep, tail] = entry as [string, unknown, unknown, unknown]
  if (typeof failures !== 'number' || !Number.isInteger(failures) || failures < 0 || failures > 1000) return undefined
  const tenant = guid(entry[0])
  if (entry.length === 2) return { tenant, failures }
  if (entry.length !== 4 || typeof keep !== 'number' || !Number.isInteger(keep) || keep < 0 || keep > target.length) return undefined
  if (typeof tail !== 'string' || tail.length > CURSOR_BOUNDS.maxTail) return undefined
  return { tenant, link: target.slice(0, keep) + tail, failures }
}

function mac (key: Buffer, client: string, payload: Buffer): Buffer {
  // The client name is inside the MAC: another client's cursor fails exactly like a forged one.
  return createHmac('sha256', key).update(`fleet-cursor\u0000${client}\u0000`).update(payload).digest().subarray(0, MAC_BYTES)
}

function hex (id: string): string {
  return id.replaceAll('-', '')
}

function guid (h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

function fail (reason: string): CursorCheck {
  return { ok: false, reason }
}
