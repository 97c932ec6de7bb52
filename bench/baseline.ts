import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { access, copyFile, mkdir, rm, symlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

/** The commit BENCH_BASELINE names, and where its compiled gateway process is. */
export interface BaselineBuild {
  readonly ref: string
  readonly sha: string
  /** the exported tree's own compiled bench/gateway-process.js: it imports that tree's src/ */
  readonly gatewayScript: string
}

/** Where the ref's tree is exported (emptied first on every run), under the git-ignored .bench/. */
export const BASELINE_DIR = '.bench/baseline-src'

/**
 * Exports `ref`'s tree with `git archive` (no worktree to register or clean up), links this checkout's
 * node_modules into it and compiles it with its own tsconfig.bench.json, as `npm run bench` does here.
 * Throws an error naming the ref when it is not a commit, does not compile or has no bench gateway.
 */
export async function buildBaseline (ref: string, root = process.cwd()): Promise<BaselineBuild> {
  const fail = (why: string): Error => new Error(`BENCH_BASELINE=${ref}: ${why}`)
  const sha = await promisify(execFile)('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { cwd: root })
    .then(({ stdout }) => stdout.trim(), () => { throw fail('not a commit in this repository') })
  const dir = resolve(root, BASELINE_DIR)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const git = spawn('git', ['archive', sha], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  const tar = spawn('tar', ['-x', '-C', dir], { stdio: [git.stdout, 'inherit', 'inherit'] })
  git.stdout.destroy() // tar holds the pipe now; if tar dies, git gets EPIPE instead of blocking on our copy
  if ((await Promise.all([succeeded(git), succeeded(tar)])).includes(false)) throw fail(`git archive ${sha} | tar -x failed`)
  await symlink(resolve(root, 'node_modules'), join(dir, 'node_modules'))
  // tsc reports on stdout: send it to stderr, which the bench's report does not use
  const tsc = spawn(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bench.json'], { cwd: dir, stdio: ['ignore', 2, 2] })
  if (!await succeeded(tsc)) throw fail(`${sha} does not compile with its tsconfig.bench.json (tsc output above; tree in ${BASELINE_DIR})`)
  const gatewayScript = join(dir, '.bench/build/bench/gateway-process.js')
  await access(gatewayScript).catch(() => { throw fail(`${sha} built no .bench/build/bench/gateway-process.js`) })
  await copyFile(join(dir, 'package.json'), join(dir, '.bench/build/package.json'))
  return { ref, sha, gatewayScript }
}

async function succeeded (child: ChildProcess): Promise<boolean> {
  return await new Promise((resolve) => {
    child.once('error', () => resolve(false))
    child.once('exit', (code) => resolve(code === 0))
  })
}
