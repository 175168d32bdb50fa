/**
 * Runs a function at most once per tick, with a leading edge: a call after a quiet spell runs on
 * the next turn of the event loop, calls during a busy stream once per `tickMs`.
 */
export class TickThrottle {
  readonly #tickMs: number
  readonly #run: () => void
  #timeout: NodeJS.Timeout | undefined
  #immediate: NodeJS.Immediate | undefined
  #last = 0

  constructor(tickMs: number, run: () => void) {
    this.#tickMs = tickMs
    this.#run = run
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

  cancel(): void {
    clearTimeout(this.#timeout)
    clearImmediate(this.#immediate)
    this.#timeout = undefined
    this.#immediate = undefined
  }
}
