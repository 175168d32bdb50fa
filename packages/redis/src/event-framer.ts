import type { SpoutEvent } from '@spout/core'
import type { Redis } from 'ioredis'

/** Event frames a batch's stream keeps (approximate): the live view needs only the recent ones. */
const streamLength = 10_000
/** Events of one frame at most, and how long an event waits for others to share its frame (ms). */
const frameSize = 256
const frameDelay = 15

/**
 * Sends a worker's events to the batch's event stream in frames (one `XADD` per frame, not per
 * token), in the order they happened. Best effort: the result lines, not the events, are the batch.
 */
export class EventFramer {
  readonly #redis: Redis
  readonly #stream: string
  #pending: SpoutEvent[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #sent: Promise<unknown> = Promise.resolve()

  constructor(redis: Redis, stream: string) {
    this.#redis = redis
    this.#stream = stream
  }

  push(event: SpoutEvent): void {
    this.#pending.push(event)
    if (this.#pending.length >= frameSize) this.#send()
    else this.#timer ??= setTimeout(() => this.#send(), frameDelay)
  }

  /** Sends what is waiting; resolves once every frame so far is in Redis (or failed). */
  async flush(): Promise<void> {
    this.#send()
    await this.#sent
  }

  #send(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#pending.length === 0) return
    const frame = JSON.stringify(this.#pending)
    this.#pending = []
    this.#sent = this.#redis
      .xadd(this.#stream, 'MAXLEN', '~', streamLength, '*', 'f', frame)
      .catch(() => undefined) // the live view misses a frame; the result line still comes
  }
}
