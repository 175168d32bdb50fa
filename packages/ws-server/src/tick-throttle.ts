/** How much of the previous estimate each new cost sample replaces. */
const costWeight = 0.2

/** The tick's bounds and what share of one core its runs may take. */
export interface TickRange {
  /** Shortest tick, ms: what a cheap run (few viewers) gets. */
  minMs: number
  /** Longest tick, ms: the window however costly a run is. */
  maxMs: number
  /** Share of one core the runs may take (0.1: a run of 1 ms allows a tick of 10 ms). */
  share: number
}

/**
 * Runs a function at most once per tick, with a leading edge: a call after a quiet spell runs on
 * the next turn of the event loop, calls during a busy stream once per tick. The tick follows the
 * run's cost ({@link noteCost}): the run's average time divided by `share`, within `minMs` and
 * `maxMs`. So a hub with a few viewers sends every few milliseconds, and one with hundreds waits
 * longer between ticks instead of spending more than its share of the core on them.
 */
export class TickThrottle {
  readonly #range: TickRange
  readonly #run: () => void
  #tickMs: number
  #cost = 0
  #timeout: NodeJS.Timeout | undefined
  #immediate: NodeJS.Immediate | undefined
  #last = Number.NEGATIVE_INFINITY

  constructor(range: TickRange, run: () => void) {
    this.#range = range
    this.#tickMs = range.minMs
    this.#run = run
  }

  /** The current tick, ms. */
  get tickMs(): number {
    return this.#tickMs
  }

  /** Asks for a run; does nothing when one is already due. */
  schedule(): void {
    if (this.#timeout !== undefined || this.#immediate !== undefined) return
    const wait = this.#last + this.#tickMs - performance.now()
    if (wait <= 0) {
      this.#immediate = setImmediate(() => this.runNow())
    } else {
      this.#timeout = setTimeout(() => this.runNow(), wait)
    }
  }

  /** Runs at once; a run that was due is dropped. */
  runNow(): void {
    this.cancel()
    this.#last = performance.now()
    this.#run()
  }

  /** What a run just cost, ms: the next ticks follow the running average. */
  noteCost(milliseconds: number): void {
    this.#cost += (milliseconds - this.#cost) * costWeight
    const { minMs, maxMs, share } = this.#range
    this.#tickMs = Math.min(maxMs, Math.max(minMs, this.#cost / share))
  }

  cancel(): void {
    clearTimeout(this.#timeout)
    clearImmediate(this.#immediate)
    this.#timeout = undefined
    this.#immediate = undefined
  }
}
