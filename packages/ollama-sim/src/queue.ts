/**
 * Generation slots with OLLAMA_NUM_PARALLEL / OLLAMA_MAX_QUEUE semantics: `slots` requests run at
 * once, up to `maxQueue` more wait (no bytes sent), and any request beyond that is refused at once.
 */

export type AcquireResult = 'acquired' | 'queue-full' | 'aborted'

interface Waiter {
  resolve: (result: AcquireResult) => void
  signal: AbortSignal
  onAbort: () => void
}

export class SlotQueue {
  readonly slots: number
  readonly maxQueue: number
  #busy = 0
  readonly #waiters: Waiter[] = []

  constructor(slots: number, maxQueue: number) {
    if (!Number.isInteger(slots) || slots < 1)
      throw new RangeError(`numParallel must be an integer ≥ 1, got ${slots}`)
    if (!Number.isInteger(maxQueue) || maxQueue < 0) {
      throw new RangeError(`maxQueue must be an integer ≥ 0, got ${maxQueue}`)
    }
    this.slots = slots
    this.maxQueue = maxQueue
  }

  get busy(): number {
    return this.#busy
  }

  get waiting(): number {
    return this.#waiters.length
  }

  /** Takes a slot, waiting in line if all are busy; `'aborted'` if `signal` aborts while waiting. */
  acquire(signal: AbortSignal): AcquireResult | Promise<AcquireResult> {
    if (signal.aborted) return 'aborted'
    if (this.#busy < this.slots) {
      this.#busy++
      return 'acquired'
    }
    if (this.#waiters.length >= this.maxQueue) return 'queue-full'
    return new Promise<AcquireResult>((resolve) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          const index = this.#waiters.indexOf(waiter)
          if (index !== -1) this.#waiters.splice(index, 1)
          resolve('aborted')
        },
      }
      signal.addEventListener('abort', waiter.onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  /** Gives a slot back; the longest-waiting request gets it. */
  release(): void {
    const next = this.#waiters.shift()
    if (next) {
      next.signal.removeEventListener('abort', next.onAbort)
      next.resolve('acquired')
      return
    }
    this.#busy--
  }
}
