/** Config problems are collected, never thrown one by one, so an operator fixes them in one pass. */
export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor (source: string, problems: readonly string[]) {
    super(`invalid config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** 'clients[2].tenants[0]' from a schema path. */
export function formatPath (path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out === '' ? '(root)' : out
}
