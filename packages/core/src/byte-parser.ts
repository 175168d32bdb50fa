// What every byte-scanning decoder (NDJSON, SSE) shares: the synchronous parser shape, and the two
// forms it is served in (an async iterator over a byte source, a WHATWG TransformStream).
// Browser-safe: no node:* imports.

/** A decoder's synchronous core: feed it byte chunks, it appends every complete value to `out`. */
export interface ByteParser {
  push(chunk: Uint8Array, out: unknown[]): void
  /** The input ended: parses what is left (a last line without its line ending). */
  end(out: unknown[]): void
}

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>

/** Lines up to this size are joined in one reused buffer; longer ones are joined once, when whole. */
const scratchLimit = 64 * 1024
const noBytes = new Uint8Array(0)

/**
 * The bytes of an unfinished line, kept across reads. Short lines (nearly all of them) are copied into
 * one reused buffer, so finishing a line allocates nothing; a line past `scratchLimit` keeps its pieces
 * and is joined once when it ends (a 16 MiB line is copied once, not once per doubling).
 */
export class PendingBytes {
  readonly #copy: boolean
  /** Holds bytes `[0, #length)` while `#parts` is undefined. */
  #scratch = noBytes
  #parts: Uint8Array[] | undefined
  #length = 0

  /** `copy`: whether the pieces of a long line must be copied (the source may reuse its buffers). */
  constructor(copy: boolean) {
    this.#copy = copy
  }

  get length(): number {
    return this.#length
  }

  /** Keeps `chunk[start..end)`. */
  add(chunk: Uint8Array, start: number, end = chunk.length): void {
    const total = this.#length + end - start
    if (this.#parts === undefined && total <= scratchLimit) {
      if (total > this.#scratch.length) this.#grow(total)
      this.#scratch.set(chunk.subarray(start, end), this.#length)
    } else {
      if (this.#parts === undefined)
        this.#parts = this.#length > 0 ? [this.#scratch.slice(0, this.#length)] : []
      this.#parts.push(this.#copy ? chunk.slice(start, end) : chunk.subarray(start, end))
    }
    this.#length = total
  }

  /**
   * Everything kept, followed by `chunk[start..end)`, as one array, and forgets it: the array is valid
   * only until the next `add` (decode it at once).
   */
  take(chunk: Uint8Array = noBytes, start = 0, end = chunk.length): Uint8Array {
    const total = this.#length + end - start
    const parts = this.#parts
    let joined: Uint8Array
    if (parts === undefined && total <= scratchLimit) {
      if (total > this.#scratch.length) this.#grow(total)
      if (end > start) this.#scratch.set(chunk.subarray(start, end), this.#length)
      joined = this.#scratch.subarray(0, total)
    } else {
      const all = parts ?? (this.#length > 0 ? [this.#scratch.subarray(0, this.#length)] : [])
      if (end > start) all.push(chunk.subarray(start, end))
      joined = new Uint8Array(total)
      let position = 0
      for (const part of all) {
        joined.set(part, position)
        position += part.length
      }
    }
    this.#parts = undefined
    this.#length = 0
    return joined
  }

  /** Forgets everything kept. */
  clear(): void {
    this.#parts = undefined
    this.#length = 0
  }

  #grow(needed: number): void {
    let size = Math.max(256, this.#scratch.length * 2)
    while (size < needed) size *= 2
    const grown = new Uint8Array(Math.min(size, scratchLimit))
    grown.set(this.#scratch.subarray(0, this.#length))
    this.#scratch = grown
  }
}

const doneResult: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })

/**
 * Pulls a byte source through a parser: every read is parsed at once into a queue, and `next()` hands
 * the values out without an await per value. Breaking out of the loop calls the source's `return()`.
 */
export class ParserIterator<T> implements AsyncIterableIterator<T> {
  readonly #parser: ByteParser
  readonly #source: ByteSource
  #iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array> | undefined
  #queue: unknown[] = []
  #head = 0
  #failure: { error: unknown } | undefined
  #finished = false

  constructor(source: ByteSource, parser: ByteParser) {
    this.#source = source
    this.#parser = parser
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#queue.length) {
      return Promise.resolve({ value: this.#queue[this.#head++] as T, done: false })
    }
    if (this.#failure) {
      const { error } = this.#failure
      this.#failure = undefined
      this.#finished = true
      return Promise.reject(error)
    }
    if (this.#finished) return Promise.resolve(doneResult)
    return this.#fill()
  }

  async #fill(): Promise<IteratorResult<T>> {
    if (this.#iterator === undefined) {
      const source = this.#source
      this.#iterator =
        Symbol.asyncIterator in source
          ? source[Symbol.asyncIterator]()
          : (source as Iterable<Uint8Array>)[Symbol.iterator]()
    }
    const iterator = this.#iterator
    this.#queue = []
    this.#head = 0
    while (this.#queue.length === 0) {
      let step: IteratorResult<Uint8Array>
      try {
        step = await iterator.next()
      } catch (error) {
        this.#finished = true
        throw error
      }
      try {
        if (step.done) {
          this.#finished = true
          this.#parser.end(this.#queue)
          break
        }
        this.#parser.push(step.value, this.#queue)
      } catch (error) {
        this.#failure = { error }
        await this.#closeSource()
        break
      }
    }
    return this.next()
  }

  async #closeSource(): Promise<void> {
    try {
      await this.#iterator?.return?.()
    } catch {
      // The decoding error is the one worth reporting.
    }
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.#finished) {
      this.#finished = true
      this.#queue = []
      this.#head = 0
      await this.#iterator?.return?.()
    }
    return doneResult
  }
}

/** A `TransformStream` that runs bytes through a parser. */
export class ParserStream<T> extends TransformStream<Uint8Array, T> {
  constructor(parser: ByteParser) {
    const out: unknown[] = []
    const flushTo = (controller: TransformStreamDefaultController<T>) => {
      for (const value of out) controller.enqueue(value as T)
      out.length = 0
    }
    super({
      transform(chunk, controller) {
        try {
          parser.push(chunk, out)
        } finally {
          flushTo(controller)
        }
      },
      flush(controller) {
        try {
          parser.end(out)
        } finally {
          flushTo(controller)
        }
      },
    })
  }
}
