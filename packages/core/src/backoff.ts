// Exponential backoff with jitter: how long to wait before retry number N, and the wait itself. The one
// formula of Spout, browser-safe (on `@spout/core/events` for the viewer): the client's request retries,
// the pipeline's record retries, the hub publisher's and the viewer's reconnects all call it.
import { onAbort } from './abort-listener.ts'

export interface Backoff {
  /** Delay ceiling of the first retry, in milliseconds; it doubles each retry. */
  base: number
  /** Upper bound of any delay, in milliseconds. */
  max: number
  /**
   * Where the random delay lies below the ceiling `min(max, base × 2^(attempt−1))`: `'upper-half'`
   * ("equal jitter", the default) or `'from-base'` (anywhere from `base` up, so many viewers of a restarted
   * hub do not all come back in the same instant).
   */
  jitter?: 'upper-half' | 'from-base'
}

/** Delay before retry number `attempt` (1 = the first retry), in whole milliseconds. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.max, backoff.base * 2 ** Math.max(0, attempt - 1))
  const lowest = backoff.jitter === 'from-base' ? Math.min(backoff.base, ceiling) : ceiling / 2
  return Math.round(lowest + random() * (ceiling - lowest))
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const stop = onAbort(signal, () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
    const timer = setTimeout(() => {
      stop()
      resolve()
    }, ms)
  })
}
