// One call through a pool: waits for a host (unless one was free at once), streams its chunks,
// and tells the host how it went (time to first token, 503, connection lost) exactly once.

import type { ConcurrencySample } from './learned-concurrency.ts'
import type { PoolHost } from './pool-host.ts'
import { classifyFailure } from './record-retry.ts'
import type { Metrics } from './types.ts'

/** What a call needs of its pool. */
export interface PoolCallPort {
  /** Resolves with a host whose slot is already taken for this call (its `inFlight` counts it). */
  waitForHost(model: string, signal: AbortSignal | undefined): Promise<PoolHost>
  /** Called once when the call has a host, before its first chunk. */
  routed(host: PoolHost): void
  /** Gives the slot back and wakes whoever waits. */
  release(host: PoolHost): void
}

type Chunk = Partial<Metrics> & { done?: boolean }

const unreachableCodes = new Set(['SPOUT_CONNECTION_ERROR', 'SPOUT_CONNECT_TIMEOUT'])

/** An async iterable over one host's stream; hand-written, since every chunk passes through it. */
export class PoolCall<T extends Chunk> implements AsyncIterableIterator<T> {
  readonly #port: PoolCallPort
  readonly #model: string
  readonly #signal: AbortSignal | undefined
  readonly #open: (host: PoolHost) => AsyncIterable<T>
  #host: PoolHost | undefined
  #inner: AsyncIterator<T> | undefined
  #sample: ConcurrencySample | undefined
  #startedAt = 0
  #firstAt = 0
  /** The host's controller already counted this call at its first token. */
  #counted = false
  #settled = false

  constructor(
    port: PoolCallPort,
    model: string,
    signal: AbortSignal | undefined,
    open: (host: PoolHost) => AsyncIterable<T>,
    host: PoolHost | undefined,
  ) {
    this.#port = port
    this.#model = model
    this.#signal = signal
    this.#open = open
    if (host) this.#take(host)
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#settled) return { done: true, value: undefined }
    let result: IteratorResult<T>
    try {
      if (!this.#host) this.#take(await this.#port.waitForHost(this.#model, this.#signal))
      this.#inner ??= this.#open(this.#host!)[Symbol.asyncIterator]()
      result = await this.#inner.next()
    } catch (error) {
      this.#failed(error)
      throw error
    }
    if (result.done) {
      this.#settle()
      return result
    }
    if (this.#firstAt === 0) {
      this.#firstAt = performance.now()
      const host = this.#host!
      host.health.succeeded()
      if (host.fixed === undefined && result.value.done !== true) {
        this.#counted = host.controller.firstToken(this.#sample!, this.#firstAt - this.#startedAt)
      }
    }
    if (result.value.done === true) this.#finished(result.value)
    return result
  }

  async return(): Promise<IteratorResult<T>> {
    const inner = this.#inner
    this.#settle()
    await inner?.return?.()
    return { done: true, value: undefined }
  }

  #take(host: PoolHost): void {
    this.#host = host
    this.#sample = host.controller.start(host.inFlight)
    this.#startedAt = performance.now()
    this.#port.routed(host)
  }

  /** The last chunk: the wait it shows teaches the host's concurrency. */
  #finished(final: Chunk): void {
    const host = this.#host!
    const promptEval = (final.prompt_eval_duration ?? 0) / 1e6
    const wait = Math.max(0, this.#firstAt - this.#startedAt - promptEval)
    if (host.fixed === undefined) {
      if (this.#counted) host.controller.settled(wait)
      else host.controller.succeeded(this.#sample!, wait)
    }
    host.finished(final.eval_count ?? 0, this.#model)
    this.#settle()
  }

  #failed(error: unknown): void {
    const host = this.#host
    if (!host || this.#settled) {
      this.#settled = true
      return
    }
    if (!this.#signal?.aborted) {
      host.failures += 1
      const kind = classifyFailure(error)
      const { code, connected, message } = (error ?? {}) as {
        code?: unknown
        connected?: unknown
        message?: unknown
      }
      const reason = typeof message === 'string' ? message : String(error)
      if (kind === 'busy') {
        host.health.answered()
        if (host.fixed === undefined) host.controller.busy(this.#sample!)
        // Busy with nothing else running here: let it cool down instead of asking again at once.
        if (this.#sample!.inFlight <= 1) host.health.down(reason)
      } else if (kind === 'retry') {
        const unreachable = typeof code === 'string' && unreachableCodes.has(code) && connected !== true
        host.health.failed(reason, unreachable)
      } else host.health.answered()
    }
    this.#settle()
  }

  #settle(): void {
    if (this.#settled) return
    this.#settled = true
    const host = this.#host
    if (host) this.#port.release(host)
  }
}
