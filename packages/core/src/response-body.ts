// A response body fed straight from undici's dispatch handler: no Node stream in between. The reader
// pulls one network read at a time with `read()`; past `highWaterMark` buffered bytes the socket is
// paused until the reader catches up.

import type { Dispatcher } from 'undici'

const defaultHighWaterMark = 64 * 1024

export class ResponseBody {
  readonly #controller: Dispatcher.DispatchController
  readonly #highWaterMark: number
  #chunks: Buffer[] = []
  #buffered = 0
  #paused = false
  #ended = false
  #failure: { error: unknown } | undefined
  #destroyed = false
  #listener: (() => void) | undefined

  /** @internal Created by the transport when the response starts. */
  constructor(controller: Dispatcher.DispatchController, highWaterMark = defaultHighWaterMark) {
    this.#controller = controller
    this.#highWaterMark = highWaterMark
  }

  /** The whole body has arrived (it may still hold unread chunks). */
  get ended(): boolean {
    return this.#ended
  }

  /** Set when the response failed before its end (connection lost, aborted). */
  get failure(): { error: unknown } | undefined {
    return this.#failure
  }

  /** Called after every new chunk, the end and a failure. One listener at a time. */
  listen(listener: (() => void) | undefined): void {
    this.#listener = listener
  }

  /**
   * Everything buffered so far, as one buffer (reads that came in while the reader was busy are
   * joined, so the parser sees them in one pass), or null when nothing is buffered.
   */
  read(): Buffer | null {
    const chunks = this.#chunks
    if (chunks.length === 0) return null
    const chunk = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#buffered)
    this.#chunks = []
    this.#buffered = 0
    if (this.#paused) {
      this.#paused = false
      this.#controller.resume()
    }
    return chunk
  }

  /** Reads the rest of the body, keeping at most `limit` bytes. */
  async collect(limit: number): Promise<Buffer> {
    const kept: Buffer[] = []
    let size = 0
    for (;;) {
      const chunk = this.read()
      if (chunk !== null) {
        if (size < limit) kept.push(chunk)
        size += chunk.length
        if (size >= limit) {
          this.destroy()
          break
        }
        continue
      }
      if (this.#ended) break
      if (this.#failure) throw this.#failure.error
      await new Promise<void>((resolve) => this.listen(resolve))
      this.listen(undefined)
    }
    return Buffer.concat(kept).subarray(0, limit)
  }

  /** Stops the response (closing its connection unless it already ended) and drops what is buffered. */
  destroy(reason?: unknown): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#chunks = []
    this.#buffered = 0
    if (!this.#ended && !this.#failure) {
      this.#controller.abort(abortErrorOf(reason, 'The response was closed'))
    }
  }

  /** @internal */
  push(chunk: Buffer): void {
    if (this.#destroyed) return
    this.#chunks.push(chunk)
    this.#buffered += chunk.length
    if (!this.#paused && this.#buffered >= this.#highWaterMark) {
      this.#paused = true
      this.#controller.pause()
    }
    this.#listener?.()
  }

  /** @internal */
  end(): void {
    this.#ended = true
    this.#listener?.()
  }

  /** @internal */
  fail(error: unknown): void {
    if (this.#ended || this.#failure) return
    this.#failure = { error }
    this.#listener?.()
  }
}

/**
 * What to hand undici's `controller.abort()`: `reason` itself when it is an Error, else an `AbortError`
 * saying `message`.
 */
export function abortErrorOf(reason: unknown, message = String(reason)): Error {
  return reason instanceof Error ? reason : new DOMException(message, 'AbortError')
}
