import { randomUUID } from 'node:crypto'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { clientRequestId, ERROR_STATUS, GatewayError, renderError, renderGraphError, type ErrorCode } from '../errors.js'
import { isGraphUrl } from '../graph/path.js'
import type { GatewayMetrics } from '../observability/metrics.js'

/** The one place errors become HTTP answers, always in Defender's error shape. */
export function installErrorHandling (app: FastifyInstance, metrics: GatewayMetrics): void {
  app.setErrorHandler(function renderGatewayError (error: FastifyError | GatewayError, request, reply) {
    const gatewayError = toGatewayError(error)
    if (request.gw !== null && request.gw !== undefined) request.gw.denied = gatewayError.code
    if (gatewayError.status >= 500 && !(error instanceof GatewayError)) {
      request.log.error({ err: error }, 'unexpected error')
    }
    if (gatewayError.status === 401 || gatewayError.status === 403 || gatewayError.status === 405 || gatewayError.status === 400) {
      metrics.policyDenials.inc({ reason: gatewayError.code })
    }
    // A body we will not read (refused, cut off) must not keep the caller's connection: close it.
    if (bodyPending(request)) reply.header('connection', 'close')
    send(reply, gatewayError, request)
  })
}

function bodyPending (request: FastifyRequest): boolean {
  const { headers, complete } = request.raw
  return !complete && (headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? '0') > 0)
}

/** Errors fastify raises before routing (bad URL encoding...): same shape, never a crash. */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  send(reply, new GatewayError('BadRequest', `Rejected request: ${error.message}`), request)
}

function toGatewayError (error: FastifyError | GatewayError): GatewayError {
  if (error instanceof GatewayError) return error
  const status = error.statusCode ?? 500
  if (status === 413) return new GatewayError('PayloadTooLarge', 'The request body is larger than the gateway forwards.')
  if (status >= 400 && status < 500) return new GatewayError('BadRequest', `Rejected request: ${error.message}`)
  return new GatewayError('InternalError', 'The gateway failed to handle the request; see its logs with this request id.')
}

/** Defender's error shape, or Graph's on Graph routes (with Graph's `request-id` / `client-request-id` headers). */
function send (reply: FastifyReply, error: GatewayError, request: FastifyRequest): void {
  const requestId = request.id
  reply.code(ERROR_STATUS[error.code as ErrorCode]).headers(error.headers).header('x-request-id', requestId)
    .type('application/json; charset=utf-8')
  if (!isGraphUrl(request.url)) {
    reply.send(renderError(error.code, error.message, requestId))
    return
  }
  const clientId = clientRequestId(request.headers['client-request-id'])
  reply.header('request-id', requestId)
  if (clientId !== undefined) reply.header('client-request-id', clientId)
  reply.send(renderGraphError(error.code, error.message, requestId, clientId))
}

/**
 * CONNECT never reaches fastify (Node emits it on the server and would drop the socket silently); answer
 * it like any other unsupported method so tunnelling attempts get a clear 405 in Defender's shape.
 */
export function refuseConnect (server: import('node:http').Server): void {
  server.on('connect', function refuseTunnel (_req: unknown, socket: import('node:stream').Duplex) {
    const id = randomUUID()
    const body = renderError('MethodNotAllowed', 'Method CONNECT is not supported by the Defender API.', id)
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json; charset=utf-8\r\nx-request-id: ${id}\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  })
}

/**
 * Requests Node's HTTP parser rejects (malformed request line, bad header, oversize headers) never reach
 * fastify's routing: answer them in Defender's shape too, then close the connection.
 */
export function clientErrorHandler (err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, reason, message] = err.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request was not received in time.']
      : [400, 'Bad Request', 'The request is not valid HTTP.']
  const id = randomUUID()
  // Sent to a Graph path (as far as the request line could be read): Graph's shape and request-id header.
  const graph = isGraphUrl(requestTarget(err) ?? '')
  const body = graph ? renderGraphError('BadRequest', message, id) : renderError('BadRequest', message, id)
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\nx-request-id: ${id}\r\n${graph ? `request-id: ${id}\r\n` : ''}` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

/** The request target from the bytes Node's parser refused (`rawPacket`), when a request line is there. */
function requestTarget (err: NodeJS.ErrnoException & { rawPacket?: unknown }): string | undefined {
  if (!Buffer.isBuffer(err.rawPacket)) return undefined
  const line = err.rawPacket.subarray(0, 8192).toString('latin1').split('\r\n', 1)[0] ?? ''
  return /^[A-Za-z]+ (\S+) HTTP\/1\.[01]$/.exec(line)?.[1]
}
