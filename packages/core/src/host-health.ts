// Whether a host of a pool gets work: up, being checked, or down and probed with backoff.

import { backoffDelay } from './backoff.ts'
import type { RetryDelay } from './record-retry.ts'

/** Probes of a host that is down: the first after 250 ms, then doubling up to 10 s (with jitter). */
const probeDelayDefaults = { base: 250, max: 10_000 }

/**
 * `up`: gets work. `checking`: a request failed in a way that may mean the host went away; no new
 * work until one probe answers. `down`: refused, timed out or failed repeatedly; probed with
 * backoff and put back when a probe answers.
 */
export type HostState = 'up' | 'checking' | 'down'

export interface HostHealthOptions {
  /** Asks the host whether it is there (`/api/version`, `/v1/models`); rejects when it is not. */
  probe: () => Promise<void>
  /** Called after every change of state, with why. */
  onChange: (state: HostState, reason: string) => void
  /** Transient failures in a row that take the host out. Default 3. */
  maxFailures?: number
  /** Backoff between probes of a host that is down. Default `{ base: 250, max: 10_000 }` ms. */
  probeDelay?: RetryDelay
}

export class HostHealth {
  readonly #options: HostHealthOptions
  readonly #maxFailures: number
  #state: HostState = 'up'
  #reason = ''
  /** Transient failures since the last success. */
  #failures = 0
  /** Times taken out since the last request that went through (sets the probe backoff). */
  #strikes = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #probing = false
  #closed = false

  constructor(options: HostHealthOptions) {
    this.#options = options
    this.#maxFailures = options.maxFailures ?? 3
  }

  get state(): HostState {
    return this.#state
  }

  /** Why the host is not up (the last failure), or `''`. */
  get reason(): string {
    return this.#reason
  }

  /** A request got an answer (an error status too): the host is there. */
  answered(): void {
    this.#failures = 0
  }

  /** A request went through (its first chunk came): the host works. */
  succeeded(): void {
    this.#failures = 0
    this.#strikes = 0
  }

  /**
   * A request failed without an answer. `unreachable` (refused, connect timeout) takes the host
   * out at once; other failures (a stream cut, a timeout) have it checked, and `maxFailures` in a
   * row take it out.
   */
  failed(reason: string, unreachable: boolean): void {
    if (this.#closed || this.#state === 'down') return
    this.#failures += 1
    if (unreachable || this.#failures >= this.#maxFailures) this.down(reason)
    else if (this.#state === 'up') {
      this.#set('checking', reason)
      this.#schedule(0)
    }
  }

  /**
   * Takes the host out and probes it with backoff until it answers (also for a cool-down: a host
   * that keeps answering 503 at one request). The backoff grows each time until a request goes
   * through, so a host that fails again right after coming back waits longer each time.
   */
  down(reason: string): void {
    if (this.#closed) return
    this.#strikes += 1
    this.#set('down', reason)
    const { base = probeDelayDefaults.base, max = probeDelayDefaults.max } = this.#options.probeDelay ?? {}
    this.#schedule(backoffDelay(this.#strikes, { base, max }))
  }

  /** Stops probing. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule(delay: number): void {
    if (this.#closed || this.#probing) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#probe(), delay)
    this.#timer.unref?.()
  }

  async #probe(): Promise<void> {
    this.#timer = undefined
    if (this.#closed) return
    this.#probing = true
    let answered = true
    let why = ''
    try {
      await this.#options.probe()
    } catch (error) {
      answered = false
      why = error instanceof Error ? error.message : String(error)
    } finally {
      this.#probing = false
    }
    if (this.#closed) return
    if (answered) {
      this.#failures = 0
      this.#set('up', '')
      return
    }
    this.down(why)
  }

  #set(state: HostState, reason: string): void {
    const changed = state !== this.#state
    this.#state = state
    this.#reason = reason
    if (changed) this.#options.onChange(state, reason)
  }
}
