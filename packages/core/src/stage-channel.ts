/**
 * The queue between two stages: the earlier stage pushes records, the later stage's pipeline pulls
 * them (`for await`) when it has a free slot. Ends when closed and drained, or at once when the
 * signal aborts (a pipeline waiting for its next record must not wait for ever).
 */
export class StageChannel<T> implements AsyncIterable<T> {
  readonly #items: T[] = []
  #head = 0
  #closed = false
  #waiting: ((result: IteratorResult<T>) => void) | undefined

  constructor(signal: AbortSignal) {
    if (signal.aborted) this.#closed = true
    else signal.addEventListener('abort', () => this.#end(), { once: true })
  }

  /** Records pushed and not yet pulled. */
  get size(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    if (this.#closed) return
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = undefined
      waiting({ value: item, done: false })
      return
    }
    this.#items.push(item)
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
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.size > 0) {
          const value = this.#items[this.#head] as T
          this.#items[this.#head] = undefined as T
          this.#head += 1
          if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
            this.#items.splice(0, this.#head)
            this.#head = 0
          }
          return Promise.resolve({ value, done: false })
        }
        if (this.#closed) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve) => {
          this.#waiting = resolve
        })
      },
    }
  }
}
