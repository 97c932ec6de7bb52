/**
 * Hands page text from the tenant readers to the response one piece at a time: `push` resolves only
 * once the response took the piece, so a slow caller slows the readers instead of filling memory.
 */
export interface Channel {
  push (text: string): Promise<void>
  /** no more pieces; pending pushes resolve (their text is dropped when the caller went away) */
  close (): void
  drain (): AsyncGenerator<string>
}

/** A one-slot hand-over between many producers and one consumer. */
export function createChannel (): Channel {
  const waiting: Array<{ text: string, taken: () => void }> = []
  let wake: (() => void) | undefined
  let closed = false
  return {
    async push (text) {
      if (closed) return
      await new Promise<void>((resolve) => {
        waiting.push({ text, taken: resolve })
        wake?.()
      })
    },
    close () {
      closed = true
      for (const piece of waiting.splice(0)) piece.taken()
      wake?.()
    },
    async * drain () {
      for (;;) {
        const next = waiting.shift()
        if (next !== undefined) {
          next.taken()
          yield next.text
          continue
        }
        if (closed) return
        await new Promise<void>((resolve) => { wake = resolve })
        wake = undefined
      }
    }
  }
}
