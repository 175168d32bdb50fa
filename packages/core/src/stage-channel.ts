/**
 * The bounded queue between two stages: the earlier stage pushes records, the later stage's pipeline
 * pulls them (`for await`) when it has a free slot. At most `capacity` records wait in it; a push
 * beyond that resolves only once the later stage has pulled one, so a fast stage waits for a slow
 * one (its slot stays busy) instead of piling records up in memory. Ends when closed and drained,
 * or at once when the signal aborts (a pipeline waiting for its next record, or a stage waiting to
 * push one, must not wait for ever).
 */
export class StageChannel<T> implements AsyncIterable<T> {
  readonly #capacity: number
  readonly #items: T[] = []
  #head = 0
  /** Pushes that found the queue full, in order: each enters once a record is pulled. */
  readonly #blocked: { item: T; resolve: () => void }[] = []
  #closed = false
  #waiting: ((result: IteratorResult<T>) => void) | undefined

  constructor(signal: AbortSignal, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a stage queue holds at least 1 record, not ${capacity}`)
    }
    this.#capacity = capacity
    if (signal.aborted) this.#closed = true
    else signal.addEventListener('abort', () => this.#end(), { once: true })
  }

  /** Records pushed and not yet pulled (never more than the capacity). */
  get size(): number {
    return this.#items.length - this.#head
  }

  /** Resolves once the record is in the queue (or taken); at once after close or abort (it is dropped). */
  push(item: T): Promise<void> {
    if (this.#closed) return Promise.resolve()
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = undefined
      waiting({ value: item, done: false })
      return Promise.resolve()
    }
    if (this.size < this.#capacity) {
      this.#items.push(item)
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      this.#blocked.push({ item, resolve })
    })
  }

  /** No more records: the pull ends once the queued ones are taken. */
  close(): void {
    this.#closed = true
    if (this.size === 0) this.#end()
  }

  #end(): void {
    this.#closed = true
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.({ value: undefined, done: true })
    for (const { resolve } of this.#blocked.splice(0)) resolve()
  }

  #take(): T {
    const value = this.#items[this.#head] as T
    this.#items[this.#head] = undefined as T
    this.#head += 1
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
    const blocked = this.#blocked.shift()
    if (blocked) {
      this.#items.push(blocked.item)
      blocked.resolve()
    }
    return value
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.size > 0) return Promise.resolve({ value: this.#take(), done: false })
        if (this.#closed) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve) => {
          this.#waiting = resolve
        })
      },
    }
  }
}
