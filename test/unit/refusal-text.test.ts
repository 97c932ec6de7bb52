import t from 'tap'
import { ROUTES, type RouteSpec } from '../../src/policy/catalogue-data.js'
import { authorise, type Grantee } from '../../src/policy/authorise.js'
import { classify } from '../../src/tokens/classify.js'

const A = '11111111-1111-4111-8111-111111111111'
const route = (name: string): RouteSpec => ROUTES.find((r) => r.name === name) as RouteSpec
const client = (permissions: string[]): Grantee => ({ name: 'siem', tenants: new Set(['*']), permissions: new Set(permissions) })
const tenant = (permissions: string[]): { id: string, permissions: ReadonlySet<string> } => ({ id: A, permissions: new Set(permissions) })

const message = (d: ReturnType<typeof authorise>): string => d.allowed ? '' : d.message

t.test('a refusal says which allowlist lacks the permission', async (t) => {
  const rows = [
    { name: 'client lacks it', c: ['Machine.Read.All'], tn: ['Alert.Read.All'], has: ["client 'siem' (clients[].permissions)"], hasNot: ['tenants[].permissions'] },
    { name: 'tenant lacks it', c: ['Alert.Read.All'], tn: ['Machine.Read.All'], has: ["tenant 'Contoso' (tenants[].permissions)"], hasNot: ['clients[].permissions'] },
    { name: 'both lack it', c: [], tn: [], has: ["client 'siem' (clients[].permissions) nor of tenant 'Contoso'"], hasNot: [] }
  ]
  for (const row of rows) {
    const text = message(authorise(client(row.c), tenant(row.tn), 'Contoso', route('alerts.list')))
    for (const words of row.has) t.match(text, words, row.name)
    for (const words of row.hasNot) t.notMatch(text, words, row.name)
    t.match(text, 'GET /tenants/Contoso/explain', `${row.name}: points at explain, tenant as written`)
    t.match(text, 'needs one of Alert.Read.All, Alert.ReadWrite.All', `${row.name}: names the permissions`)
  }
})

t.test('each side allowing a different alternative is told apart from a missing one', async (t) => {
  const text = message(authorise(client(['Ti.ReadWrite']), tenant(['Ti.ReadWrite.All']), 'contoso', route('indicators.list')))
  t.match(text, 'needs one of Ti.ReadWrite, Ti.ReadWrite.All')
  t.match(text, 'each allow a different one')
})

t.test('an unknown tenant and one outside the client list read the same (no probing for customers)', async (t) => {
  const narrow: Grantee = { name: 'narrow', tenants: new Set(['22222222-2222-4222-8222-222222222222']), permissions: new Set(['Alert.Read.All']) }
  const unknown = message(authorise(narrow, undefined, 'Fabrikam', route('alerts.list')))
  const outside = message(authorise(narrow, tenant(['Alert.Read.All']), 'Fabrikam', route('alerts.list')))
  t.equal(unknown, outside)
  t.match(unknown, "tenant 'Fabrikam'")
})

t.test('a token failure names the host and why, from what the attempt saw', async (t) => {
  const rows = [
    { name: 'HTTP status', err: { errorCode: 'server_error' }, attempt: { host: 'login.example:443', status: 500 }, want: 'login.example:443 answered HTTP 500: server_error' },
    { name: 'socket error', err: { errorCode: 'network_error' }, attempt: { host: 'login.example:443', failure: 'connect ECONNREFUSED 127.0.0.1:443' }, want: 'login.example:443: connect ECONNREFUSED 127.0.0.1:443' },
    { name: 'AADSTS code', err: { errorNo: '7000215', errorCode: 'invalid_client' }, attempt: { host: 'login.example', status: 401 }, want: 'login.example answered HTTP 401: AADSTS7000215' },
    { name: 'no attempt context', err: { errorCode: 'network_error' }, attempt: undefined, want: '(network_error)' }
  ]
  for (const row of rows) t.match(classify(row.err, A, row.attempt).message, row.want, row.name)
})
