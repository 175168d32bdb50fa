// The K sequences of one context, handed out one per generation: a call waits (abortably) for a free
// sequence, so more calls than sequences queue up instead of failing.

export class SequencePool<T> {
  readonly #free: T[]
  readonly #waiting: { resolve: (slot: T) => void }[] = []

  constructor(slots: readonly T[]) {
    this.#free = [...slots]
  }

  acquire(signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted()
    const slot = this.#free.pop()
    if (slot !== undefined) return Promise.resolve(slot)
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (value: T) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(value)
        },
      }
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1)
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiting.push(waiter)
    })
  }

  release(slot: T): void {
    const next = this.#waiting.shift()
    if (next) next.resolve(slot)
    else this.#free.push(slot)
  }
}
