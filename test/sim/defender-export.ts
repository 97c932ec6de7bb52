import type { Writable } from 'node:stream'
import { inventoryRecordJson } from './defender-data.js'
import { intOption, QueryError } from './defender-query.js'
import { context, HttpError } from './defender-context.js'
import type { Ctx } from './defender-context.js'
import { openBody } from './defender-reply.js'

const DEFAULT_PAGE = 50000
const CHUNK_RECORDS = 256

function readSkipToken (raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0
  try {
    // a '+' in base64 may arrive as a space after query decoding
    const parsed: unknown = JSON.parse(Buffer.from(raw.replace(/ /g, '+'), 'base64').toString('utf8'))
    const offset = (parsed as { offset?: unknown }).offset
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset
  } catch {}
  throw new HttpError(400, 'InvalidInput', 'The $skiptoken is invalid')
}

/** Encodes an export `$skiptoken`: base64 of `{"offset":N}`. */
export function skipToken (offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64')
}

/** Writes a chunk, waiting for 'drain' when the stream pushes back; false once the client is gone. */
async function writeChunk (out: Writable, ctx: Ctx, text: string): Promise<boolean> {
  if (ctx.res.destroyed || out.destroyed) return false
  if (out.write(text)) return true
  await new Promise<void>(resolve => {
    const done = (): void => {
      out.off('drain', done)
      ctx.res.off('close', done)
      resolve()
    }
    out.on('drain', done)
    ctx.res.on('close', done)
  })
  return !ctx.res.destroyed && !out.destroyed
}

/**
 * GET /api/machines/SoftwareInventoryByMachine: export-style paging (`pageSize`, `$skiptoken`) whose page is
 * generated and streamed chunk by chunk with backpressure, never held in memory whole.
 */
export async function softwareInventoryByMachine (ctx: Ctx): Promise<void> {
  let pageSize: number
  try {
    pageSize = intOption(ctx.query, 'pageSize', 1, ctx.maxExportPage) ?? DEFAULT_PAGE
  } catch (err) {
    throw new HttpError(400, 'InvalidInput', (err as QueryError).message)
  }
  const offset = readSkipToken(ctx.query.get('$skiptoken'))
  const total = ctx.exportCount
  const end = Math.min(offset + pageSize, total)
  const out = openBody(ctx.req, ctx.res, ctx.compress, 200, { 'content-type': 'application/json; odata.metadata=minimal; charset=utf-8' })
  const head = `{"@odata.context":${JSON.stringify(context(ctx, 'Collection(microsoft.windowsDefenderATP.api.AssetSoftware)'))},"value":[`
  if (!await writeChunk(out, ctx, head)) { ctx.streams.aborted++; return }
  for (let i = offset; i < end; i += CHUNK_RECORDS) {
    const stop = Math.min(i + CHUNK_RECORDS, end)
    let chunk = ''
    for (let j = i; j < stop; j++) chunk += (j === offset ? '' : ',') + inventoryRecordJson(ctx.data, j)
    if (!await writeChunk(out, ctx, chunk)) { ctx.streams.aborted++; return }
    ctx.streams.recordsWritten += stop - i
  }
  ctx.streams.completed++
  let tail = ']'
  if (end < total) {
    const link = `${ctx.linkHost}/api/machines/SoftwareInventoryByMachine?pageSize=${pageSize}&$skiptoken=${encodeURIComponent(skipToken(end))}`
    tail += `,"@odata.nextLink":${JSON.stringify(link)}`
  }
  out.end(tail + '}')
}
