import t from 'tap'
import { bodyRefusal } from '../../src/proxy/body-rules.js'

const route = (method: string, template: string): { method: string, template: string } => ({ method, template })
const RUN = route('POST', '/api/advancedqueries/run')
const HUNT = route('POST', '/{version}/security/runHuntingQuery')
const UPLOAD = route('POST', '/api/libraryfiles')
const EXTRA = route('POST', '/api/some/extra')
const code = (r: { method: string, template: string } | undefined, type: string | undefined, body: string): string => bodyRefusal(r, type, Buffer.from(body))?.code ?? 'forwarded'

t.test('which routes accept what', async (t) => {
  t.equal(code(RUN, 'application/json', '{"Query":"x"}'), 'forwarded')
  t.equal(code(RUN, 'Application/JSON; charset=utf-8', '{"Query":"x"}'), 'forwarded')
  t.equal(code(RUN, 'application/json', '{"Query":'), 'BadRequest', 'invalid JSON')
  t.equal(code(RUN, 'text/x-weird', 'x'), 'UnsupportedMediaType')
  t.equal(code(RUN, undefined, 'Query=x'), 'BadRequest', 'untyped is read as JSON')
  t.equal(code(RUN, undefined, '{"Query":"x"}'), 'forwarded')
  t.equal(code(RUN, 'text/x-weird', ''), 'forwarded', 'an empty body is not judged')
  t.equal(code(HUNT, 'text/plain', 'x'), 'UnsupportedMediaType', 'Graph routes too')
  t.equal(code(HUNT, 'application/json', '{'), 'BadRequest')
  t.equal(code(UPLOAD, 'multipart/form-data; boundary=b', '--b\r\n...'), 'forwarded', 'the library upload takes multipart')
  t.equal(code(UPLOAD, 'application/json', '{'), 'BadRequest', 'a body declared JSON must parse anywhere')
  t.equal(code(EXTRA, 'application/octet-stream', 'x'), 'forwarded', 'an operator\'s extra route is not judged on type')
  t.equal(code(route('GET', '/api/alerts'), 'text/plain', 'x'), 'forwarded')
  t.equal(code(route('POST', '/api/machines/{id}/isolate'), 'application/vnd.api+json', '{"Comment":"x"}'), 'forwarded', '+json is JSON')
})
