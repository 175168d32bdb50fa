// The pipeline's input, read a bounded window ahead of the free slots. The records that wait there are
// announced (`record-queued`), so a viewer shows them before they start; the window bounds memory.
import type { InputRecord } from './plugin.ts'

/** One record read from the input. */
export interface ReadEntry {
  readonly id: string
  readonly record: InputRecord
  /** 1-based position in the input. */
  readonly position: number
}

export interface ReadAheadOptions {
  /** Records held waiting at most; 0 reads only when a slot asks (no record waits). */
  window: number
  /** A record's id from its fields or its position. */
  idOf(record: InputRecord, position: number): string
  /** True for a record that waits as queued (resume's done records pass through unannounced). */
  queues(entry: ReadEntry): boolean
  /** Awaited before a queued record can be taken (its `record-queued`); must not reject. */
  onQueued(entry: ReadEntry): void | Promise<void>
}

interface Waiter {
  resolve(entry: ReadEntry | undefined): void
  reject(error: unknown): void
}

/**
 * Reads records in input order, up to `window` ahead of the taker. One read is in flight at a time;
 * an input error is raised where it happened, after the records read before it were taken.
 */
export class ReadAhead {
  readonly #iterator: AsyncIterator<InputRecord> | Iterator<InputRecord>
  readonly #options: ReadAheadOptions
  readonly #held: ReadEntry[] = []
  #position = 0
  #pumping: Promise<void> | undefined
  #exhausted = false
  #failure: { error: unknown } | undefined
  #stopped = false
  #waiter: Waiter | undefined

  constructor(input: AsyncIterable<InputRecord> | Iterable<InputRecord>, options: ReadAheadOptions) {
    this.#iterator = Symbol.asyncIterator in input ? input[Symbol.asyncIterator]() : input[Symbol.iterator]()
    this.#options = options
  }

  /** Records waiting in the window. */
  get held(): number {
    return this.#held.length
  }

  /** Starts filling the window without taking anything. */
  start(): void {
    this.#pump()
  }

  /**
   * The next record in input order; `undefined` once the input is exhausted or reading stopped.
   * Rejects with the input's own error once the records read before it were taken.
   */
  next(): Promise<ReadEntry | undefined> {
    const held = this.#held.shift()
    if (held) {
      this.#pump()
      return Promise.resolve(held)
    }
    if (this.#failure) return Promise.reject(this.#failure.error)
    if (this.#exhausted || this.#stopped) return Promise.resolve(undefined)
    return new Promise<ReadEntry | undefined>((resolve, reject) => {
      this.#waiter = { resolve, reject }
      this.#pump()
    })
  }

  /** Takes a waiting record out of the window (it was aborted before it started). */
  remove(id: string): ReadEntry | undefined {
    const index = this.#held.findIndex((entry) => entry.id === id)
    if (index === -1) return undefined
    const [entry] = this.#held.splice(index, 1)
    this.#pump()
    return entry
  }

  /** Reads no more; a pending `next()` resolves `undefined`. */
  stop(): void {
    this.#stopped = true
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.resolve(undefined)
  }

  /**
   * Stops and hands back every record read but not taken, in input order: the held ones and the one
   * a read in flight returns (it is awaited, so no record that was read is lost).
   */
  async drain(): Promise<ReadEntry[]> {
    this.stop()
    while (this.#pumping) await this.#pumping
    return this.#held.splice(0)
  }

  /** Closes the input when it was not read to its end (call after `drain`). */
  async close(): Promise<void> {
    this.stop()
    if (this.#exhausted || this.#failure || this.#pumping) return
    try {
      await this.#iterator.return?.()
    } catch {
      // The input's own cleanup failing does not change the outcome of the records.
    }
  }

  #pump(): void {
    if (this.#pumping || this.#stopped || this.#exhausted || this.#failure) return
    if (!this.#waiter && this.#held.length >= this.#options.window) return
    this.#pumping = this.#fill().finally(() => {
      this.#pumping = undefined
      // A record taken while the last read was settling leaves room: look again.
      this.#pump()
    })
  }

  async #fill(): Promise<void> {
    while (!this.#stopped && (this.#waiter || this.#held.length < this.#options.window)) {
      let next: IteratorResult<InputRecord>
      try {
        next = await this.#iterator.next()
      } catch (error) {
        this.#failure = { error }
        this.#settleWaiter()
        return
      }
      if (next.done) {
        this.#exhausted = true
        this.#settleWaiter()
        return
      }
      this.#position += 1
      const entry: ReadEntry = {
        id: this.#options.idOf(next.value, this.#position),
        record: next.value,
        position: this.#position,
      }
      if (this.#stopped) {
        this.#held.push(entry) // read as the job stopped: `drain` hands it back
        return
      }
      const waiter = this.#waiter
      if (waiter && this.#held.length === 0) {
        // A slot is free and nothing waits before this record: it starts at once, unannounced.
        this.#waiter = undefined
        waiter.resolve(entry)
        continue
      }
      if (this.#options.queues(entry)) await this.#options.onQueued(entry)
      this.#held.push(entry)
      this.#settleWaiter()
    }
  }

  /** Hands the waiting taker what is due: the first held record, the input's error, or the end. */
  #settleWaiter(): void {
    const waiter = this.#waiter
    if (!waiter) return
    const held = this.#held.shift()
    if (held) {
      this.#waiter = undefined
      waiter.resolve(held)
    } else if (this.#failure) {
      this.#waiter = undefined
      waiter.reject(this.#failure.error)
    } else if (this.#exhausted || this.#stopped) {
      this.#waiter = undefined
      waiter.resolve(undefined)
    }
  }
}
