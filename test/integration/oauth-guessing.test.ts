import { request } from 'node:http'
import t from 'tap'
import { TENANT_A } from '../helper.js'
import { RESOURCE, SIEM_CLIENT_ID, startOAuthWorld, type OAuthWorld } from '../oauth-helper.js'

// Red-team F3: guessing limits count per source address and per (client, address), never per client
// alone (anyone knowing a client id could lock it out), and the address is never the caller's own claim.
const TOKEN = `/${TENANT_A}/oauth2/v2.0/token`

async function post (world: OAuthWorld, secret: string, from: { localAddress?: string, xff?: string } = {}, clientId = SIEM_CLIENT_ID): Promise<number> {
  const url = new URL(world.url)
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: `${RESOURCE}/.default` }).toString()
  return await new Promise<number>((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: TOKEN,
      method: 'POST',
      localAddress: from.localAddress,
      agent: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(from.xff === undefined ? {} : { 'x-forwarded-for': from.xff }) }
    }, (res) => {
      res.resume()
      res.once('end', () => { resolve(res.statusCode ?? 0) })
    })
    req.once('error', reject)
    req.end(body)
  })
}

t.test('guessing from one address does not lock the client out for another address', async (t) => {
  const world = await startOAuthWorld({ oauth: { maxFailures: 3 } })
  t.teardown(async () => { await world.close() })
  t.equal(new URL(world.url).hostname, '127.0.0.1', 'the test binds other loopback addresses')
  for (let i = 0; i < 10; i++) t.ok([401, 429].includes(await post(world, `guess-${i}`, { localAddress: '127.0.0.2' })))
  t.equal(await post(world, world.keys.siem, { localAddress: '127.0.0.2' }), 429, 'the guessing address itself waits')
  t.equal(await post(world, world.keys.siem, { localAddress: '127.0.0.3' }), 200, 'the right secret from an address that has not failed is served')
  t.equal(await post(world, world.keys.siem, { localAddress: '127.0.0.1' }), 200)
  const guessing = world.logs.filter((line) => line.event === 'client_secret_guessing')
  t.equal(guessing.length, 1, 'one alarm for the client in the window')
  t.equal(guessing[0]?.client, 'siem')
})

t.test('with server.trustProxy, rotating the left-most X-Forwarded-For does not escape the limit', async (t) => {
  const world = await startOAuthWorld({ oauth: { maxFailures: 3 }, config: (raw) => ({ ...raw, server: { ...raw.server, trustProxy: true } }) })
  t.teardown(async () => { await world.close() })
  // The trusted proxy appends the real peer (203.0.113.9) as the right-most entry; the caller owns the rest.
  // Unknown client ids count only against the address: rotating the left-most entry must not reset it.
  for (let i = 0; i < 3; i++) t.equal(await post(world, 'x', { xff: `198.51.100.${i}, 203.0.113.9` }, `unknown-${i}`), 400)
  t.equal(await post(world, 'guess-x', { xff: '198.51.100.77, 203.0.113.9' }), 429, 'a fresh left-most entry does not help')
  t.equal(await post(world, world.keys.siem, { xff: '198.51.100.78, 203.0.113.9' }), 429)
  t.equal(await post(world, world.keys.siem, { xff: '203.0.113.10' }), 200, 'another real peer is not affected')
})
