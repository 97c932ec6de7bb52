import { createHash, randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'

// A big Defender answer that undici's parser meets at its worst (issue 16): many MB of records of random ids
// and hashes, so gzip shrinks it only about 4:3. Shared by the big-answer tests and the bench's big-response
// run, which both serve it through the sim's scripted answer 16 KiB per write.

const MB = 1024 * 1024

/** A JSON page of about `mb` MB ending in a nextLink on `linkOrigin`, plain and gzipped, with what the caller must get. */
export interface BigAnswer {
  /** length of the plain page as sent */
  readonly bytes: number
  readonly plain: Buffer
  /** the page gzipped (level 1), built on first use */
  readonly gzipped: Buffer
  /** sha256 of the page the caller should read once inflated: the nextLink rewritten to `rewrittenOrigin` */
  readonly expectedSha256: string
}

/** Builds the page: random-looking records (so gzip cannot shrink it to nothing), then a nextLink. */
export function bigAnswer (mb: number, linkOrigin: string, rewrittenOrigin: string): BigAnswer {
  const records: string[] = []
  let size = 0
  for (let i = 0; size < mb * MB; i++) {
    const record = `${i === 0 ? '' : ','}{"id":"${randomBytes(18).toString('hex')}","sha256":"${randomBytes(240).toString('base64')}"}`
    records.push(record)
    size += record.length
  }
  const head = Buffer.from(`{"@odata.context":"x","value":[${records.join('')}]`)
  const query = '/api/alerts?$skip=1000'
  const tail = (origin: string): string => `,"@odata.nextLink":"${origin}${query}"}`
  const plain = Buffer.concat([head, Buffer.from(tail(linkOrigin))])
  const expected = createHash('sha256').update(head).update(tail(rewrittenOrigin)).digest('hex')
  let gzipped: Buffer | undefined
  return {
    bytes: plain.length,
    plain,
    get gzipped () { return (gzipped ??= gzipSync(plain, { level: 1 })) },
    expectedSha256: expected
  }
}
