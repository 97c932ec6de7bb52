import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ParsedQuery } from './defender-query.js'
import type { TenantData } from './defender-data.js'
import type { VerifiedToken } from './jwt-verify.js'
import { sendText } from './defender-reply.js'

/** Everything a route handler needs about one authenticated request. */
export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  params: string[]
  query: ParsedQuery
  body: Buffer
  token: VerifiedToken
  data: TenantData
  linkHost: string
  alertCount: number
  exportCount: number
  maxExportPage: number
  compress: boolean
  /** counters of streamed export pages, for backpressure and cancellation assertions */
  streams: StreamStats
}

/** What a region has streamed: records written, and pages whose client went away before the end. */
export interface StreamStats { recordsWritten: number, aborted: number, completed: number }

export type Handler = (ctx: Ctx) => void | Promise<void>

/** A Defender error a handler raises; the server renders it in Defender's error shape. */
export class HttpError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

/** Sends a JSON body (compressed when the region compresses). */
export function json (ctx: Ctx, status: number, body: unknown): void {
  sendText(ctx.req, ctx.res, ctx.compress, status, JSON.stringify(body))
}

/** `${linkHost}/api/$metadata#<suffix>` as Defender puts in `@odata.context`. */
export function context (ctx: Ctx, suffix: string): string {
  return `${ctx.linkHost}/api/$metadata#${suffix}`
}

/** Parses the body as a JSON object or raises 400 InvalidRequestBody. */
export function jsonBody (ctx: Ctx): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(ctx.body.toString('utf8'))
  } catch {
    throw new HttpError(400, 'InvalidRequestBody', 'Request body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'InvalidRequestBody', 'Request body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

/** Reads a required string body field (names are case-sensitive, as in Defender). */
export function requiredString (body: Record<string, unknown>, name: string): string {
  const v = body[name]
  if (typeof v !== 'string' || v === '') throw new HttpError(400, 'InvalidRequestBody', `Missing required parameter '${name}'`)
  return v
}
