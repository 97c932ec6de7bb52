import t from 'tap'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { bash } from '../shell.js'

// README "Running it for real", followed verbatim with the example config as far as a test can: every
// command of its shell block and every `npm run -s cli` it quotes, except those that need what a test
// must not touch (npm ci on the shared node_modules, Microsoft's real Entra ID and Defender hosts).
t.setTimeout(300_000)

const SKIPPED: ReadonlyArray<[RegExp, string]> = [
  [/^npm ci$/, 'installs: the harness did'],
  [/tenant-status /, "asks Microsoft's Entra ID for a token"],
  [/node dist\/server\.js/, "starts the gateway against Microsoft's hosts"]
]

const readme = await readFile('README.md', 'utf8')
const section = readme.slice(readme.indexOf('## Running it for real'), readme.indexOf('\n## ', readme.indexOf('## Running it for real') + 5))
const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
const blockLines = block.split('\n').map((l) => l.trim()).filter((l) => l !== '')
const quoted = [...section.matchAll(/`(npm run -s cli -- [^`]+)`/g)].map((m) => m[1] as string).filter((l) => !blockLines.includes(l))

t.test('the section has the commands this test follows', async (t) => {
  t.ok(blockLines.length >= 5, `${blockLines.length} lines in its shell block`)
  t.ok(blockLines.some((l) => l.includes('check-config config/gateway.yaml')), 'checks the example config')
  t.ok(quoted.some((l) => l.includes('consent-url')), 'quotes the consent-url line')
})

t.test('its commands work as written with the example config', async (t) => {
  const run = [...blockLines, ...quoted].filter((line) => !SKIPPED.some(([pattern]) => pattern.test(line)))
  for (const line of [...blockLines, ...quoted]) {
    const skip = SKIPPED.find(([pattern]) => pattern.test(line))
    if (skip !== undefined) t.comment(`not run: ${line} (${skip[1]})`)
  }
  // One shell, as a reader pastes the block: the exports carry over to the lines after them.
  const appSecret = `test-app-secret-${Date.now()}`
  const script = ['set -eo pipefail', ...run.flatMap((line, i) => [`echo "@@@ ${i}"`, line.replace("'<the app secret from step 3>'", `'${appSecret}'`)])].join('\n')
  const { code, out, err } = await bash(script)
  t.equal(code, 0, `every line exits 0 (${err.trim()})`)
  const outputs = new Map(out.split(/^@@@ (\d+)\n/m).slice(1).reduce<Array<[string, string]>>((pairs, part, i, all) => i % 2 === 0 ? [...pairs, [run[Number(part)] as string, all[i + 1] ?? '']] : pairs, []))
  t.equal(outputs.size, run.length, 'each line ran')

  const keygen = outputs.get(run.find((l) => l.includes('keygen'))!) ?? ''
  const key = /^\s+(dgw_\S+)$/m.exec(keygen)?.[1] ?? ''
  const hash = /keySha256: ([0-9a-f]{64})/.exec(keygen)?.[1]
  t.equal(hash, createHash('sha256').update(key).digest('hex'), "keygen's keySha256 is what `printf %s \"$KEY\" | sha256sum` gives")
  t.match(outputs.get(run.find((l) => l.includes('check-config'))!), 'config/gateway.yaml: ok (2 tenants, 2 clients', 'check-config: ok')
  t.match(outputs.get(quoted.find((l) => l.includes('consent-url'))!), /^https:\/\/login\.microsoftonline\.com\/6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\/adminconsent\?client_id=00000000-0000-4000-8000-000000000000$/m, 'the consent link of step 4')
  t.notMatch(out + err, appSecret, 'the secret is never printed')
})
