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

/** The bytes of `parts` as one array (the part itself when there is only one). */
export function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === total) return parts[0]!
  const joined = new Uint8Array(total)
  let position = 0
  for (const part of parts) {
    joined.set(part, position)
    position += part.length
  }
  return joined
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
