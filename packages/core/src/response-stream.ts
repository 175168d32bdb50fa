// The streaming result of a call: a hand-written async iterator. Every network read is parsed at once
// into a queue of objects, and `next()` hands them out without an await per object. Breaking out of
// `for await` destroys the body, which closes the connection: that is how Ollama learns to stop.

import { onAbort } from './abort-listener.ts'
import type { ByteParser } from './byte-parser.ts'
import { errorMessageOf, IncompleteStreamError, StreamError } from './errors.ts'
import type { ResponseBody } from './response-body.ts'
import { abortOnTimeout, type Call, type Transport } from './transport.ts'

/** What marks the end of a stream, and which text counts as "received" in errors. */
export interface StreamKind {
  /** True for the object that completes the stream (`done: true`, or `status: "success"` for pulls). */
  isFinal(value: Record<string, unknown>): boolean
  /** The text of one object (`response`, `message.content`), kept for errors. */
  textOf(value: Record<string, unknown>): string
}

const State = { Idle: 0, Opening: 1, Streaming: 2, Finished: 3 } as const
type State = (typeof State)[keyof typeof State]

const doneResult: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })

function abortError(message: string): DOMException {
  return new DOMException(message, 'AbortError')
}

export class ResponseStream<T> implements AsyncIterableIterator<T> {
  readonly #transport: Transport
  readonly #call: Call
  readonly #kind: StreamKind
  readonly #signal: AbortSignal | undefined
  /** The call's own signal (the caller's, the timers' and `abort()`'s reasons all land there). */
  readonly #signalOfCall: AbortSignal
  readonly #parser: ByteParser
  #state: State = State.Idle
  #body: ResponseBody | undefined
  #queue: unknown[] = []
  #head = 0
  #failure: { error: unknown } | undefined
  #waiter: (() => void) | undefined
  #completed = false
  #chunks = 0
  /** The text of each object so far, joined only when asked for. */
  #texts: string[] = []
  #idleTimer: ReturnType<typeof setTimeout> | undefined
  #waitingSince = 0
  #removeSignalListener: (() => void) | undefined

  /** @internal Created by OllamaClient and OpenAIClient. */
  constructor(init: {
    transport: Transport
    call: Call
    kind: StreamKind
    signal: AbortSignal | undefined
    /** Bytes to objects: NDJSON for Ollama, SSE mapped to Ollama's chunks for OpenAI-compatible servers. */
    parser: ByteParser
  }) {
    this.#transport = init.transport
    this.#call = init.call
    this.#kind = init.kind
    this.#signal = init.signal
    this.#signalOfCall = init.call.controller.signal
    this.#parser = init.parser
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** Number of objects received so far. */
  get chunks(): number {
    return this.#chunks
  }

  /** The text (`response` / `message.content`) received so far. */
  get received(): string {
    return this.#texts.join('')
  }

  /** Cancels the request at whatever phase it is in; a pending or later `next()` rejects with `reason`. */
  abort(reason?: unknown): void {
    const controller = this.#call.controller
    if (!controller.signal.aborted) controller.abort(reason ?? abortError('This operation was aborted'))
    if (this.#state === State.Idle) {
      this.#failure = { error: controller.signal.reason }
      this.#finish()
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.#signalOfCall.aborted) {
      if (this.#head < this.#queue.length) {
        return Promise.resolve({ value: this.#queue[this.#head++] as T, done: false })
      }
      // What already arrived is parsed here, without entering the async path.
      if (this.#state === State.Streaming && this.#failure === undefined) {
        const chunk = this.#body!.read()
        if (chunk !== null) {
          this.#ingest(chunk)
          if (this.#head < this.#queue.length) {
            return Promise.resolve({ value: this.#queue[this.#head++] as T, done: false })
          }
        }
      }
    }
    return this.#advance()
  }

  /** Called by `break` / `return` in `for await`: closes the connection if the body is still open. */
  return(): Promise<IteratorResult<T>> {
    if (this.#state === State.Opening) {
      this.#call.controller.abort(abortError('The stream was closed'))
    }
    this.#finish()
    return Promise.resolve(doneResult)
  }

  async #advance(): Promise<IteratorResult<T>> {
    const signal = this.#call.controller.signal
    try {
      if (signal.aborted && this.#state !== State.Finished) throw signal.reason
      if (this.#state === State.Finished) {
        if (this.#failure) {
          const { error } = this.#failure
          this.#failure = undefined
          throw error
        }
        return doneResult
      }
      if (this.#state === State.Idle) await this.#open()
      const body = this.#body!
      for (;;) {
        if (this.#head < this.#queue.length) {
          return { value: this.#queue[this.#head++] as T, done: false }
        }
        if (this.#failure) throw this.#failure.error
        if (signal.aborted) throw signal.reason
        const chunk = body.read()
        if (chunk !== null) {
          this.#ingest(chunk)
          continue
        }
        if (body.ended) return this.#end()
        if (body.failure) throw this.#incomplete(body.failure.error)
        await this.#waitForData()
        // return() while this next() was waiting: the iteration is over.
        if (this.#isFinished()) return doneResult
      }
    } catch (error) {
      this.#failure = undefined
      this.#finish()
      throw signal.aborted ? signal.reason : error
    }
  }

  /** Read afresh (TypeScript would keep an earlier narrowing of `#state` across an await). */
  #isFinished(): boolean {
    return this.#state === State.Finished
  }

  async #open(): Promise<void> {
    this.#state = State.Opening
    const userSignal = this.#signal
    if (userSignal) {
      userSignal.throwIfAborted()
      const controller = this.#call.controller
      this.#removeSignalListener = onAbort(userSignal, () => controller.abort(userSignal.reason))
    }
    const response = await this.#transport.open(this.#call)
    const body = response.body
    if (this.#isFinished()) {
      // return() or abort() came while the response was arriving.
      body.destroy()
      throw this.#call.controller.signal.reason ?? abortError('The stream was closed')
    }
    this.#body = body
    this.#state = State.Streaming
    body.listen(this.#wake)
  }

  readonly #wake = (): void => {
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = undefined
      waiter()
    }
  }

  #waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiter = resolve
      const idle = this.#call.timeouts.idle
      if (idle > 0) {
        this.#waitingSince = performance.now()
        this.#idleTimer ??= setTimeout(this.#onIdleTimer, idle)
      }
    })
  }

  /** One timer for the whole stream: it only counts time spent waiting for the server. */
  readonly #onIdleTimer = (): void => {
    this.#idleTimer = undefined
    if (!this.#waiter || this.#state !== State.Streaming) return
    const idle = this.#call.timeouts.idle
    const waited = performance.now() - this.#waitingSince
    if (waited >= idle) {
      abortOnTimeout(this.#call, 'idle')
      this.#wake()
    } else {
      this.#idleTimer = setTimeout(this.#onIdleTimer, Math.max(1, idle - waited))
    }
  }

  /** Parses one read into the queue, checking each new object for an error line and for the end. */
  #ingest(chunk: Uint8Array): void {
    let queue = this.#queue
    if (this.#head === queue.length && queue.length > 0) {
      queue = this.#queue = []
      this.#head = 0
    }
    const first = queue.length
    try {
      this.#parser.push(chunk, queue)
    } catch (error) {
      this.#failure = { error }
    }
    this.#check(first)
  }

  #check(first: number): void {
    const queue = this.#queue
    const kind = this.#kind
    for (let index = first; index < queue.length; index++) {
      const value = queue[index]
      if (typeof value !== 'object' || value === null) continue
      const object = value as Record<string, unknown>
      if (object.error !== undefined) {
        const serverMessage = errorMessageOf(object.error)
        queue.length = index
        this.#failure = {
          error: new StreamError({
            method: this.#call.method,
            url: this.#call.url,
            serverMessage,
            received: this.received,
            chunks: this.#chunks,
          }),
        }
        return
      }
      this.#chunks += 1
      const text = kind.textOf(object)
      if (text !== '') this.#texts.push(text)
      if (!this.#completed && kind.isFinal(object)) this.#completed = true
    }
  }

  #end(): IteratorResult<T> {
    const first = this.#queue.length
    try {
      this.#parser.end(this.#queue)
    } catch (error) {
      this.#failure = { error }
    }
    this.#check(first)
    if (!this.#failure && !this.#completed) this.#failure = { error: this.#incomplete(undefined) }
    this.#finish()
    if (this.#head < this.#queue.length) return { value: this.#queue[this.#head++] as T, done: false }
    if (this.#failure) {
      const { error } = this.#failure
      this.#failure = undefined
      throw error
    }
    return doneResult
  }

  #incomplete(cause: unknown): IncompleteStreamError {
    return new IncompleteStreamError({
      method: this.#call.method,
      url: this.#call.url,
      received: this.received,
      chunks: this.#chunks,
      reason: cause === undefined ? 'the response ended' : 'the connection closed',
      cause,
    })
  }

  /** Releases everything: timers, the caller's signal listener, and the body if it is still open. */
  #finish(): void {
    if (this.#state === State.Finished) return
    this.#state = State.Finished
    clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
    this.#removeSignalListener?.()
    this.#removeSignalListener = undefined
    const body = this.#body
    if (body) {
      body.listen(undefined)
      body.destroy()
    }
    this.#wake()
  }
}
