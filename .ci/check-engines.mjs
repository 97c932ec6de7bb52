// Every package in the lockfile must accept the running Node (its `engines.node`), so `npm ci` prints no
// EBADENGINE warning on any Node version CI runs: a new dependency that drops one fails CI instead.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(new URL('../package.json', import.meta.url))
const semver = require('semver')
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'))
const refused = Object.entries(lock.packages)
  .filter(([, pkg]) => typeof pkg.engines?.node === 'string' && !semver.satisfies(process.version, pkg.engines.node))
  .map(([path, pkg]) => `${path === '' ? 'this package' : path.replace(/^.*node_modules\//, '')}@${pkg.version ?? ''} needs node ${pkg.engines.node}`)
if (refused.length > 0) {
  console.error(`engines: ${refused.length} package(s) do not support Node ${process.version}:\n  ${refused.join('\n  ')}`)
  process.exit(1)
}
console.log(`engines: every locked package supports Node ${process.version}`)
