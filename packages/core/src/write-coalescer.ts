/**
 * Lines for a sink whose writes are asynchronous (a FIFO, a device, a `Writable`): the lines that
 * arrive while a write is in progress wait, and are written together in one call once it returns,
 * so records ending at the same time cost one system call, and lines never interleave.
 */
export class WriteCoalescer {
  readonly #write: (text: string) => Promise<void>
  #queued: string[] = []
  #waiting: { resolve: () => void; reject: (error: unknown) => void }[] = []
  #flushing: Promise<void> | undefined

  constructor(write: (text: string) => Promise<void>) {
    this.#write = write
  }

  /** True while a write is in progress: a line written around it now would jump the queue. */
  get busy(): boolean {
    return this.#flushing !== undefined
  }

  /** Resolves once the line is written; rejects with the write's error. */
  write(line: string): Promise<void> {
    this.#queued.push(line)
    const written = new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }))
    this.#flushing ??= this.#flush()
    return written
  }

  /** Resolves once every line given so far is written (or failed). */
  async drain(): Promise<void> {
    await this.#flushing
  }

  async #flush(): Promise<void> {
    while (this.#queued.length > 0) {
      const text = this.#queued.length === 1 ? this.#queued[0]! : this.#queued.join('')
      const settled = this.#waiting
      this.#queued = []
      this.#waiting = []
      try {
        await this.#write(text)
        for (const each of settled) each.resolve()
      } catch (error) {
        for (const each of settled) each.reject(error)
      }
    }
    this.#flushing = undefined
  }
}
