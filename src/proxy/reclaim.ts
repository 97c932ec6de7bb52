import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * Gives back the memory of streamed chunks as the stream goes. A big answer leaves behind Buffers whose
 * contents live outside V8's heap while their small JS objects sit in the young generation; streaming
 * allocates so little on the JS heap that no scavenge runs, and Node 24's V8 only reacts to that outside
 * memory at ~64 MB (measured: RSS +60-80 MB for any answer over 8 MB, all of it in malloc'd Buffer
 * contents). A young-generation collection every RECLAIM_BYTES streamed (by all answers together) frees
 * them (measured on Node 24: +58-82 MB → +3-38 MB; Node 20: +12-22 → +1-9 MB); a scavenge of a young
 * generation holding little live data costs about a millisecond, every 8 MB streamed.
 */
export const RECLAIM_BYTES = 8 * 1024 * 1024

type Collect = (options: { type: 'minor', execution: 'sync' }) => unknown

// `--expose-gc` set at run time exposes `gc` to contexts created afterwards, not to the main one.
setFlagsFromString('--expose-gc')
const collect = exposedCollect()
let streamed = 0

/** false where the runtime refused to expose the collector (memory then waits for V8's own timing) */
export const reclaiming = collect !== undefined

/** Counts bytes passed on by a streamed answer and asks for a young-generation collection every RECLAIM_BYTES. */
export function reclaimAfter (bytes: number): void {
  streamed += bytes
  if (streamed < RECLAIM_BYTES) return
  streamed = 0
  collect?.({ type: 'minor', execution: 'sync' })
}

function exposedCollect (): Collect | undefined {
  try {
    return runInNewContext('gc') as Collect
  } catch {
    // A runtime that refuses the flag keeps V8's own timing: memory is still bounded, only later.
    return undefined
  }
}
