import { spawn } from 'node:child_process'

/** `promtool check metrics` on a scrape: its exit code and what it said. */
export async function promtool (text: string): Promise<{ code: number | null, output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const done = new Promise<number | null>((resolve, reject) => { child.on('exit', resolve); child.on('error', reject) })
  child.stdin.end(text)
  return { code: await done, output }
}
