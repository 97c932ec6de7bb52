import { connect, type Socket } from 'node:net'

/** A hostile HTTP/1.1 caller on a raw socket: what it sent, what it got, and when the gateway hung up. */
export interface SlowPeer {
  readonly socket: Socket
  /** resolves when the gateway closed (or reset) the connection, with every byte that arrived */
  readonly closed: Promise<string>
  /** status and error code of the first answer, once whole or once closed (0 / undefined when none came) */
  answer (): Promise<{ status: number, code?: string, headers: string }>
}

const peers = new Set<Socket>()

/** Destroys every peer still open (call from t.teardown). */
export function destroyPeers (): void {
  for (const s of peers) s.destroy()
  peers.clear()
}

async function open (base: string, head: string, read: boolean): Promise<SlowPeer> {
  const { hostname, port } = new URL(base)
  const socket = connect(Number(port), hostname)
  peers.add(socket)
  const chunks: Buffer[] = []
  let answered: (text: string) => void = () => {}
  const whole = new Promise<string>((resolve) => { answered = resolve })
  const closed = new Promise<string>((resolve) => {
    socket.on('data', (c: Buffer) => {
      if (chunks.length < 64) chunks.push(c)
      const text = Buffer.concat(chunks).toString('latin1')
      if (complete(text)) answered(text)
    })
    socket.on('error', () => {})
    socket.once('close', () => {
      peers.delete(socket)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  // A caller that never reads: the kernel buffers fill and the gateway's writes stall.
  if (!read) socket.pause()
  socket.write(head)
  return {
    socket,
    closed,
    async answer () {
      const text = await Promise.race([whole, closed])
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      const split = text.indexOf('\r\n\r\n')
      let code: string | undefined
      try { code = JSON.parse(text.slice(split + 4)).error?.code } catch {}
      return { status, code, headers: split < 0 ? text : text.slice(0, split) }
    }
  }
}

/** True once a whole answer with a Content-Length has arrived (keep-alive answers do not close). */
function complete (text: string): boolean {
  const split = text.indexOf('\r\n\r\n')
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1]
  return split >= 0 && length !== undefined && Buffer.byteLength(text.slice(split + 4), 'latin1') >= Number(length)
}

/** Sends the headers of a POST declaring `length` bytes and only `sent` of them, then nothing more. */
export async function slowUpload (base: string, key: string, path: string, length = 4096, sent = '{"Query":"'): Promise<SlowPeer> {
  return await open(base, `POST ${path} HTTP/1.1\r\nhost: gw\r\nx-api-key: ${key}\r\n` +
    `content-type: application/json\r\ncontent-length: ${length}\r\n\r\n${sent}`, true)
}

/** Sends a GET and never reads the answer. */
export async function idleDownload (base: string, key: string, path: string): Promise<SlowPeer> {
  return await open(base, `GET ${path} HTTP/1.1\r\nhost: gw\r\nx-api-key: ${key}\r\n\r\n`, false)
}

/** Waits for a condition that an event elsewhere makes true (polled; the wait has no deadline of its own). */
export async function until (condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!await condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}
