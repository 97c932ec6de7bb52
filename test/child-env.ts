/**
 * Environment for child processes the tests start (gateway CLI, demo, replicas): the parent's, minus
 * tap's coverage and process-info hooks, whose results from a differently-compiled child (tsx) merge
 * badly into the parent's coverage report.
 */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_V8_COVERAGE' || k.startsWith('TAP') || k.startsWith('_TAP')) continue
    env[k] = v
  }
  return { ...env, ...extra }
}
