// How many requests one host takes at once, learned from how it answers (AIMD on queueing).
//
// Ollama does not report OLLAMA_NUM_PARALLEL, and a loaded model does not answer 503 when it is
// overloaded: the extra requests wait on the slot lock and show up as a longer time to first token.
// So the controller watches each request's wait (time to first token minus the prompt evaluation
// the server reports) and:
// - slow start: starts at `initial` and adds one per request that did not wait while at least half
//   the limit was in use (doubling per round), until the first sign of queueing. A request counts at
//   its first token when that alone shows it did not wait (its time to first token, an upper bound of
//   the wait, is under the queueing threshold), so a round lasts a time to first token, not a whole
//   generation; otherwise it counts at its end, with the exact wait;
// - backs off multiplicatively on 503/429 or a wait that jumps above the baseline (once per
//   generation: requests started before a decrease do not count against the new limit), and
//   remembers the concurrency at which it happened as the host's ceiling (a request that queues at
//   the plateau itself lowers the ceiling by one instead: the first sign often comes a slot late);
// - comes back quickly to one below the ceiling, and holds there; after `probeAfter` calm requests
//   it tries one more, keeps it after a full round without queueing, or returns to the plateau.

/** Taken when a request starts; handed back with its outcome. */
export interface ConcurrencySample {
  /** The controller's generation when the request started. */
  readonly generation: number
  /** Requests in flight on the host when this one started, itself included. */
  readonly inFlight: number
}

export interface LearnedConcurrencyOptions {
  /** Where learning starts. Default 1. */
  initial?: number
  /** Never more than this. Default 64. */
  max?: number
  /** A wait above `baseline × jumpFactor + jumpMargin` counts as queueing. Default 2. */
  jumpFactor?: number
  /** Milliseconds added to the threshold, so that jitter is not queueing. Default 100. */
  jumpMargin?: number
  /** Calm requests at the plateau before trying one slot more. Default 200. */
  probeAfter?: number
  /** The multiplicative decrease. Default 0.5. */
  backoff?: number
}

export class LearnedConcurrency {
  readonly #initial: number
  readonly #max: number
  readonly #jumpFactor: number
  readonly #jumpMargin: number
  readonly #probeAfter: number
  readonly #backoff: number
  #limit: number
  #generation = 0
  /** The lowest concurrency at which the host was seen queueing or busy (unknown at first). */
  #ceiling: number | undefined
  /** The lowest recent wait (ms): what a request that does not queue costs. */
  #baseline: number | undefined
  /** Calm requests at the plateau since the last change. */
  #calm = 0
  /** Requests at the probe level (the ceiling) that did not queue. */
  #clean = 0

  constructor(options: LearnedConcurrencyOptions = {}) {
    this.#initial = options.initial ?? 1
    this.#max = options.max ?? 64
    this.#jumpFactor = options.jumpFactor ?? 2
    this.#jumpMargin = options.jumpMargin ?? 100
    this.#probeAfter = options.probeAfter ?? 200
    this.#backoff = options.backoff ?? 0.5
    if (!Number.isInteger(this.#initial) || this.#initial < 1)
      throw new RangeError(`initial must be an integer ≥ 1, got ${this.#initial}`)
    if (!Number.isInteger(this.#max) || this.#max < this.#initial)
      throw new RangeError(`max must be an integer ≥ initial, got ${this.#max}`)
    if (!(this.#backoff > 0 && this.#backoff < 1))
      throw new RangeError(`backoff must be between 0 and 1, got ${this.#backoff}`)
    this.#limit = this.#initial
  }

  /** Requests the host may have in flight now. */
  get limit(): number {
    return Math.floor(this.#limit)
  }

  /** The concurrency at which the host was last seen queueing, when known. */
  get ceiling(): number | undefined {
    return this.#ceiling
  }

  /** The wait of a request that does not queue, in ms, once measured. */
  get baseline(): number | undefined {
    return this.#baseline
  }

  /** Call when a request starts, with the host's requests in flight counting this one. */
  start(inFlight: number): ConcurrencySample {
    return { generation: this.#generation, inFlight }
  }

  /**
   * A request got its first token after `wait` ms of queueing-or-network (time to first token
   * minus the server's prompt evaluation). Returns true when the limit changed.
   */
  succeeded(sample: ConcurrencySample, wait: number): boolean {
    if (this.#isJump(wait)) return this.#cut(sample, true)
    this.#track(wait)
    return this.#grow(sample)
  }

  /**
   * A request's first token came `timeToFirstToken` ms after it started. When that alone shows the
   * request did not queue (the time to first token bounds its wait from above), it counts now and
   * this returns true: give its exact wait to `settled()` at its end. Otherwise (no baseline yet, or
   * too slow to tell) it returns false: give the wait to `succeeded()` at its end.
   */
  firstToken(sample: ConcurrencySample, timeToFirstToken: number): boolean {
    if (this.#baseline === undefined || this.#isJump(timeToFirstToken)) return false
    this.#grow(sample)
    return true
  }

  /** The end of a request that already counted at its first token: its wait only refines the baseline. */
  settled(wait: number): void {
    this.#track(wait)
  }

  /** A request ran without queueing: raise the limit by the rules above. Returns true when it changed. */
  #grow(sample: ConcurrencySample): boolean {
    const before = this.limit
    if (this.#ceiling === undefined) {
      // Slow start: one more per request that ran with at least half the limit in use.
      if (sample.inFlight * 2 >= before) this.#limit = Math.min(this.#max, this.#limit + 1)
    } else if (this.#limit < this.#ceiling - 1) {
      this.#limit = Math.min(this.#ceiling - 1, this.#limit + 1)
    } else if (sample.inFlight < before || sample.generation !== this.#generation) {
      return false // the plateau was not used up, or the request is older than the last change
    } else if (sample.inFlight >= this.#ceiling) {
      // A probe request at the ceiling ran without queueing; a full round of them raises it.
      this.#clean += 1
      if (this.#clean >= this.#ceiling) {
        this.#ceiling = Math.min(this.#max + 1, this.#ceiling + 1)
        this.#limit = this.#ceiling - 1
        this.#clean = 0
        this.#calm = 0
      }
    } else {
      this.#calm += 1
      if (this.#calm >= this.#probeAfter && this.#ceiling <= this.#max) {
        this.#limit = this.#ceiling
        this.#calm = 0
        this.#clean = 0
      }
    }
    return this.limit !== before
  }

  /** The host answered 503/429. Returns true when the limit changed. */
  busy(sample: ConcurrencySample): boolean {
    return this.#cut(sample, false)
  }

  /** A request was turned away (503/429) or `queued`: cut the limit, once per generation. */
  #cut(sample: ConcurrencySample, queued: boolean): boolean {
    if (sample.generation !== this.#generation) return false
    const before = this.limit
    const level = sample.inFlight
    if (this.#ceiling !== undefined && level >= this.#ceiling) {
      // A try above the plateau queued: back to the plateau, no multiplicative cut.
      this.#limit = Math.max(1, this.#ceiling - 1)
    } else if (queued && this.#ceiling !== undefined && level === this.#ceiling - 1) {
      // The plateau itself queues (the first sign of queueing came a slot late): one lower.
      this.#ceiling = level
      this.#limit = Math.max(1, level - 1)
    } else {
      this.#ceiling = level
      this.#limit = Math.max(1, Math.min(Math.floor(this.#limit * this.#backoff), level - 1))
    }
    this.#generation += 1
    this.#calm = 0
    this.#clean = 0
    return this.limit !== before
  }

  /** Forgets what was learned (a host that restarted may not be the same). */
  reset(): void {
    this.#limit = this.#initial
    this.#ceiling = undefined
    this.#baseline = undefined
    this.#generation += 1
    this.#calm = 0
    this.#clean = 0
  }

  #isJump(wait: number): boolean {
    return this.#baseline !== undefined && wait > this.#baseline * this.#jumpFactor + this.#jumpMargin
  }

  /** The baseline follows the lowest waits at once and higher ones slowly. */
  #track(wait: number): void {
    if (this.#baseline === undefined || wait < this.#baseline) this.#baseline = wait
    else this.#baseline += (wait - this.#baseline) * 0.05
  }
}
