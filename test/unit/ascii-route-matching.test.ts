import t from 'tap'
import { ROUTES } from '../../src/policy/catalogue-data.js'
import { asciiLower, createMatcher } from '../../src/policy/match.js'
import { hasNonAscii, nonAsciiRejection } from '../../src/policy/non-ascii.js'
import { parseTarget } from '../../src/policy/path.js'

// Regression: Unicode case folding in route literals (issue 13 item 11). `getmissing\u212Abs` (Kelvin sign)
// lowercased to `getmissingkbs`, so the gateway authorised one route while the raw bytes went upstream,
// where a server folding differently (or not at all) reads another.

const match = createMatcher(ROUTES)
/** What admission decides for a path: the route it may be authorised as, or why it is refused. */
function decide (method: string, segments: readonly string[]): string {
  const route = match(method, segments)
  const refused = nonAsciiRejection(match, method, segments, route)
  return refused !== undefined ? 'refused' : route?.name ?? 'no route'
}
const T = '/tenants/11111111-1111-4111-8111-111111111111'

/** Spellings of an ASCII letter that Unicode folding, NFKC or case mapping turn into that letter. */
const LOOKALIKES: Readonly<Record<string, readonly string[]>> = {
  k: ['\u212A'], // Kelvin sign: toLowerCase() is 'k'
  s: ['\u017F'], // long s: toUpperCase() is 'S'
  i: ['\u0131', '\u0130'], // dotless i, capital I with dot: toUpperCase()/toLowerCase() reach I/i
  a: ['\u00E1', '\u212B'] // a with acute (NFD base letter a), Angstrom sign (folds to a with ring)
}

/** The hostile transformations of one literal segment: each keeps it looking (or folding) like the literal. */
function hostileSpellings (literal: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const [i, ch] of [...literal].entries()) {
    for (const look of LOOKALIKES[ch.toLowerCase()] ?? []) out.push([`${look} at ${i}`, literal.slice(0, i) + look + literal.slice(i + 1)])
  }
  // fullwidth letters: NFKC maps them onto ASCII
  out.push(['fullwidth', [...literal].map((c) => /[!-~]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xFEE0) : c).join('')])
  out.push(['combining acute after the first letter', `${literal.slice(0, 1)}\u0301${literal.slice(1)}`])
  out.push(['trailing combining dot', `${literal}\u0307`])
  out.push(['zero-width joiner inside', `${literal.slice(0, 1)}\u200D${literal.slice(1)}`])
  out.push(['no-break space after', `${literal}\u00A0`])
  return out
}

/** A concrete path for a template: values in value positions, hostile text in literal position `at`. */
function concrete (template: string, at: number, hostile: string): string[] {
  return template.split('/').slice(2).map((segment, i) => {
    if (/^\{[a-zA-Z]+\}$/.test(segment)) return 'id1'
    const fn = /^([^{}()]+)\(\{[a-z]+\}\)$/i.exec(segment)
    if (fn !== null) return i === at ? `${hostile}(x=1)` : `${fn[1] as string}(x=1)`
    return i === at ? hostile : segment
  })
}

t.test('every literal of every catalogue route: Unicode look-alikes and fold-alikes are refused', async (t) => {
  let tried = 0
  const matched: string[] = []
  for (const route of ROUTES) {
    const parts = route.template.split('/').slice(2)
    for (const [at, segment] of parts.entries()) {
      if (/^\{[a-zA-Z]+\}$/.test(segment)) continue
      const literal = /^([^{}()]+)\(/.exec(segment)?.[1] ?? segment
      for (const [how, hostile] of [...hostileSpellings(literal), ...hostileSpellings(literal.toUpperCase())]) {
        tried++
        const segments = concrete(route.template, at, hostile)
        const decision = decide(route.method, segments)
        if (decision !== 'refused') matched.push(`${route.method} ${segments.join('/')} (${how}): ${decision}`)
      }
    }
  }
  t.ok(tried > 1000, `${tried} hostile spellings tried`)
  t.same(matched, [], 'every hostile spelling refused (none authorised as any route, a sibling {id} route included)')
})

t.test('the reported spellings: Kelvin sign, long s, dotless i, fullwidth, combining marks', async (t) => {
  const rows: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['Kelvin sign in getmissingkbs', ['machines', 'm1', 'getmissing\u212Abs']],
    ['Kelvin sign in Software getmissingkbs', ['Software', 's1', 'GETMISSING\u212ABS']],
    ['long s in machines', ['machine\u017F']],
    ['dotless i in machines', ['mach\u0131nes']],
    ['capital dotted I in machines', ['MACH\u0130NES']],
    ['fullwidth alerts', ['\uFF41\uFF4C\uFF45\uFF52\uFF54\uFF53']],
    ['fullwidth v1.0', ['\uFF56\uFF11.\uFF10', 'alerts']],
    ['ligature fi in findbyip', ['machines', "\uFB01ndbyip(ip='10.1.2.3')"]],
    ['combining acute', ['ale\u0301rts']],
    ['dotless i in an export literal, where machines/{id} would take it as a machine id', ['machines', 'Software\u0131nventoryByMachine']],
    ['fullwidth export literal in an id position', ['machines', '\uFF33oftwareInventoryByMachine']],
    ['no-break space after an export literal', ['machines', 'SoftwareInventoryByMachine\u00A0']],
    ['decomposed letter for a precomposed one', ['alerts'.normalize('NFD') + '\u0300']]
  ]
  for (const [name, segments] of rows) {
    t.equal(decide('GET', segments), 'refused', name)
    t.ok(segments.some(hasNonAscii), `${name}: flagged non-ASCII`)
  }
})

t.test('non-ASCII stays allowed in value positions, and ASCII case still folds', async (t) => {
  t.equal(decide('GET', ['machines', '\u041F\u041A-01']), 'machines.get', 'Cyrillic machine name')
  t.equal(decide('GET', ['users', 'j\u00F6rg', 'machines']), 'users.machines', 'umlaut in a user name')
  t.equal(decide('GET', ['machines', "findbyip(ip='\u0131')"]), 'machines.findByIp', 'non-ASCII inside function arguments')
  t.equal(decide('GET', ['MACHINES', 'm1', 'GETMISSINGKBS']), 'machines.missingKbs')
  t.equal(asciiLower('ABCxyz\u212A\u0130\u00C9'), 'abcxyz\u212A\u0130\u00C9', 'only A-Z change')
  t.notOk(hasNonAscii('plain-ascii_~!$&()*+,;=:@'))
})

t.test('overlong, invalid and truncated UTF-8 in any segment is a malformed path', async (t) => {
  const rows = [
    ['overlong slash', '%C0%AF'],
    ['overlong dot', '%C0%AE'],
    ['overlong A', '%C1%81'],
    ['three-byte overlong k', '%E0%81%AB'],
    ['lone continuation byte', '%80'],
    ['0xFF', '%FF'],
    ['truncated two-byte', '%C3'],
    ['truncated three-byte', '%E2%84'],
    ['UTF-16 surrogate', '%ED%A0%80'],
    ['beyond U+10FFFF', '%F4%90%80%80']
  ]
  for (const [name, bytes] of rows) {
    for (const path of [`${T}/api/machines${bytes}`, `${T}/api/machines/m1${bytes}`, `${T}/api/${bytes}alerts`]) {
      const parsed = parseTarget(path)
      t.equal(parsed.ok, false, `${name}: ${path}`)
      if (!parsed.ok) t.match(parsed.reason, /malformed percent-encoding|encoded separators/)
    }
  }
})
