import { connect, type Socket } from 'node:net'
import t from 'tap'
import { TENANT_A } from '../helper.js'
import { postForm, SIEM_CLIENT_ID, startOAuthWorld, type OAuthWorld } from '../oauth-helper.js'

// Red-team F2: the unauthenticated token endpoint has its own starvation guards. Real sockets; every
// wait is on a socket event, bounded only by the small timeouts configured here.
const TOKEN = `/${TENANT_A}/oauth2/v2.0/token`

interface Raw { socket: Socket, closed: Promise<void>, text: () => string }

function open (world: OAuthWorld, head: string): Raw {
  const url = new URL(world.url)
  const socket = connect(Number(url.port), url.hostname)
  let text = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { text += chunk })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => { resolve() }))
  socket.write(head)
  return { socket, closed, text: () => text }
}

function head (contentType: string, length: number): string {
  return `POST ${TOKEN} HTTP/1.1\r\nhost: gw\r\ncontent-type: ${contentType}\r\ncontent-length: ${length}\r\n\r\n`
}

function status (text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? '0')
}

function body (text: string): Record<string, any> {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, any>
}

t.test('token endpoint: a slow upload is cut after server.bodyIdleTimeoutMs, the connection closed', async (t) => {
  const world = await startOAuthWorld({ config: (raw) => ({ ...raw, server: { ...raw.server, bodyIdleTimeoutMs: 300, requestDeadlineMs: 60_000 } }) })
  t.teardown(async () => { await world.close() })
  const raw = open(world, head('application/x-www-form-urlencoded', 200) + 'grant_type=client_')
  await raw.closed
  t.equal(status(raw.text()), 408, 'answered 408, then closed')
  t.equal(body(raw.text()).error, 'invalid_request', 'in Entra shape')
})

t.test('token endpoint: a body trickled byte by byte is cut at server.requestDeadlineMs', async (t) => {
  const world = await startOAuthWorld({ config: (raw) => ({ ...raw, server: { ...raw.server, bodyIdleTimeoutMs: 60_000, requestDeadlineMs: 400 } }) })
  t.teardown(async () => { await world.close() })
  const raw = open(world, head('application/x-www-form-urlencoded', 10_000))
  const drip = setInterval(() => { raw.socket.write('a') }, 20)
  t.teardown(() => { clearInterval(drip) })
  await raw.closed
  clearInterval(drip)
  t.equal(status(raw.text()), 408)
})

t.test('token endpoint: other content types and oversize forms are refused unread, Entra-shaped', async (t) => {
  const world = await startOAuthWorld()
  t.teardown(async () => { await world.close() })
  for (const type of ['text/plain', 'application/json', 'application/octet-stream', 'multipart/form-data; boundary=x']) {
    // 24 MB declared, 10 bytes sent: an answer (and a close) before the rest proves nothing was buffered.
    const raw = open(world, head(type, 24 * 1024 * 1024) + 'grant_type')
    await raw.closed
    t.equal(status(raw.text()), 400, `${type}: 400`)
    t.equal(body(raw.text()).error, 'invalid_request', `${type}: invalid_request`)
    t.match(body(raw.text()).error_description, /^AADSTS900144:/, `${type}: AADSTS900144`)
  }
  const big = open(world, head('application/x-www-form-urlencoded', 17 * 1024) + 'grant_type=client_credentials')
  await big.closed
  t.equal(status(big.text()), 400, 'form over 16 KB declared: 400')
  const counted = open(world, 'POST ' + TOKEN + ' HTTP/1.1\r\nhost: gw\r\ncontent-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n')
  counted.socket.write(`4400\r\n${'a'.repeat(0x4400)}\r\n`)
  await counted.closed
  t.equal(status(counted.text()), 400, 'chunked form passing 16 KB: 400, closed')
  const fine = await postForm(world, TOKEN, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: 'https://api.securitycenter.microsoft.com/.default' })
  t.equal(fine.status, 200, 'a proper form still gets a token')
})

t.test('token endpoint: over oauth.maxInFlight requests at once, 429 temporarily_unavailable with Retry-After', async (t) => {
  const world = await startOAuthWorld({ oauth: { maxInFlight: 2 }, config: (raw) => ({ ...raw, server: { ...raw.server, bodyIdleTimeoutMs: 60_000, requestDeadlineMs: 60_000 } }) })
  const held = [0, 1].map(() => open(world, head('application/x-www-form-urlencoded', 100) + 'grant_type='))
  t.teardown(async () => {
    for (const h of held) h.socket.destroy()
    await world.close()
  })
  // The gateway has taken both slots once it has read their headers; a third request proves it by its answer.
  let answer = await postForm(world, TOKEN, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem })
  for (let i = 0; i < 100 && answer.status !== 429; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    answer = await postForm(world, TOKEN, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem })
  }
  t.equal(answer.status, 429)
  t.equal(answer.json().error, 'temporarily_unavailable')
  t.equal(answer.headers['retry-after'], '1')
  for (const h of held) {
    h.socket.destroy()
    await h.closed
  }
  let after = await postForm(world, TOKEN, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: 'https://api.securitycenter.microsoft.com/.default' })
  // The slots are released on the server's close event, which may follow the client's by a tick.
  for (let i = 0; i < 100 && after.status === 429; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    after = await postForm(world, TOKEN, { grant_type: 'client_credentials', client_id: SIEM_CLIENT_ID, client_secret: world.keys.siem, scope: 'https://api.securitycenter.microsoft.com/.default' })
  }
  t.equal(after.status, 200, 'slots come back when the callers go away')
})
