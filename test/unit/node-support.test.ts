import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

// Node 20 reached end of life in April 2026: the image runs on Node 24 LTS, and the suite runs on both.

t.test('the container image runs on Node 24 LTS in every stage', async (t) => {
  const froms = (await readFile('Dockerfile', 'utf8')).split('\n').filter((l) => /^FROM /i.test(l))
  t.ok(froms.length >= 2, 'a build and a runtime stage')
  for (const line of froms) t.match(line, /^FROM node:24-[a-z]+-slim\b/, line)
})

t.test('every locked package supports the Node running this suite (npm ci prints no engine warning)', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['.ci/check-engines.mjs'])
  t.match(stdout, `every locked package supports Node ${process.version}`)
})
