// Turns node-llama-cpp's callbacks into the pull-based stream a Backend returns: the engine pushes
// chunks as it decodes, the consumer takes them with `for await`; breaking out stops the generation.

export class ChunkQueue<T> implements AsyncIterableIterator<T> {
  #buffer: T[] = []
  #head = 0
  #ended = false
  #error: { reason: unknown } | undefined
  #waiting: { resolve: (result: IteratorResult<T>) => void; reject: (reason: unknown) => void } | undefined
  readonly #onReturn: () => void

  /** `onReturn` runs when the consumer stops early (`break`, a throw in the loop body). */
  constructor(onReturn: () => void) {
    this.#onReturn = onReturn
  }

  push(value: T): void {
    if (this.#ended) return
    const waiting = this.#waiting
    if (waiting) {
      this.#waiting = undefined
      waiting.resolve({ value, done: false })
    } else this.#buffer.push(value)
  }

  end(): void {
    this.#ended = true
    this.#settle()
  }

  fail(reason: unknown): void {
    if (this.#ended) return
    this.#ended = true
    this.#error = { reason }
    this.#settle()
  }

  #settle(): void {
    const waiting = this.#waiting
    if (!waiting || this.#head < this.#buffer.length) return
    this.#waiting = undefined
    if (this.#error) waiting.reject(this.#error.reason)
    else waiting.resolve({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head++]!
      if (this.#head === this.#buffer.length) {
        this.#buffer = []
        this.#head = 0
      }
      return Promise.resolve({ value, done: false })
    }
    if (this.#error) return Promise.reject(this.#error.reason)
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#ended) {
      this.#ended = true
      this.#buffer = []
      this.#onReturn()
    }
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
