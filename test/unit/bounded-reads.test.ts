import { Readable } from 'node:stream'
import type { Socket } from 'node:net'
import t from 'tap'
import { boundReads } from '../../src/proxy/bounded-reads.js'

/** A paused byte stream holding `chunks` of `size` bytes, standing in for a socket's receive buffer. */
function buffered (chunks: number, size: number): Readable {
  const stream = new Readable({ read () {}, highWaterMark: 16 * 1024 })
  for (let i = 0; i < chunks; i++) stream.push(Buffer.alloc(size, i))
  return stream
}

t.test('a read without a size takes at most the bound, in order, and the rest stays buffered', async (t) => {
  const stream = buffered(64, 16 * 1024)
  boundReads(stream as unknown as Socket, 64 * 1024)
  const first = stream.read() as Buffer
  t.equal(first.length, 64 * 1024)
  t.equal(first[0], 0)
  t.equal(first[first.length - 1], 3, 'four whole chunks')
  t.equal(stream.readableLength, 60 * 16 * 1024)
  let total = first.length
  let chunk: Buffer | null
  while ((chunk = stream.read() as Buffer | null) !== null) {
    t.ok(chunk.length <= 64 * 1024)
    total += chunk.length
  }
  t.equal(total, 64 * 16 * 1024, 'every byte, once')
})

t.test('less than the bound buffered: everything, as before; a read with a size is left alone', async (t) => {
  const small = buffered(2, 1000)
  boundReads(small as unknown as Socket, 64 * 1024)
  t.equal((small.read() as Buffer).length, 2000)
  const sized = buffered(64, 16 * 1024)
  boundReads(sized as unknown as Socket, 64 * 1024)
  t.equal((sized.read(200 * 1024) as Buffer).length, 200 * 1024)
  t.equal(sized.readableLength, (1024 - 200) * 1024)
})
