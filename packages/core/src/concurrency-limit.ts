/** A permit for one request; hand it back with {@link ConcurrencyLimit.release}. */
export interface Permit {
  /** The limit's generation when the permit was taken (one decrease per generation). */
  readonly generation: number
}

/**
 * How many requests may be in flight: at most `max`, lowered while the server answers "busy"
 * (halved once per burst of 503s), and raised again by one per `limit` successes (AIMD).
 */
export class ConcurrencyLimit {
  readonly max: number
  #limit: number
  #inFlight = 0
  #generation = 0
  #waiters: { resolve: (permit: Permit) => void; reject: (reason: unknown) => void }[] = []
  #closed: { reason: unknown } | undefined

  constructor(max: number) {
    this.max = max
    this.#limit = max
  }

  /** The current limit (whole requests). */
  get limit(): number {
    return Math.floor(this.#limit)
  }

  get inFlight(): number {
    return this.#inFlight
  }

  /** Resolves with a permit once fewer than `limit` requests are in flight; rejects once closed. */
  acquire(): Promise<Permit> {
    if (this.#closed) return Promise.reject(this.#closed.reason)
    if (this.#inFlight < this.limit && this.#waiters.length === 0) {
      this.#inFlight += 1
      return Promise.resolve({ generation: this.#generation })
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Hands a permit back: `busy` when the server answered 503, `ok` when the request succeeded. */
  release(permit: Permit, outcome: 'ok' | 'busy' | 'error'): void {
    this.#inFlight -= 1
    if (outcome === 'busy') {
      if (permit.generation === this.#generation) {
        this.#limit = Math.max(1, Math.floor(Math.min(this.#limit, this.#inFlight + 1) / 2))
        this.#generation += 1
      }
    } else if (outcome === 'ok' && this.#limit < this.max) {
      this.#limit = Math.min(this.max, this.#limit + 1 / Math.floor(this.#limit))
    }
    this.#wake()
  }

  /** Rejects every waiting and future `acquire` with this reason. */
  close(reason: unknown): void {
    this.#closed = { reason }
    for (const waiter of this.#waiters.splice(0)) waiter.reject(reason)
  }

  #wake(): void {
    while (this.#waiters.length > 0 && this.#inFlight < this.limit) {
      this.#inFlight += 1
      this.#waiters.shift()!.resolve({ generation: this.#generation })
    }
  }
}
