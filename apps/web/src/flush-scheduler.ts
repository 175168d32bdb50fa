/** Runs `flush` soon (once), returns a function that cancels it. */
export type FlushScheduler = (flush: () => void) => () => void

/** What a scheduler waits on; the browser's by default, a test's own clock in unit tests. */
export interface FrameClock {
  /** Milliseconds, monotonic. */
  now(): number
  requestFrame(callback: () => void): () => void
  /** Runs `callback` after the current task (a microtask). */
  afterTask(callback: () => void): void
  /** A timer, for tabs that get no animation frames. */
  setTimer(callback: () => void, milliseconds: number): () => void
}

export const browserClock: FrameClock = {
  now: () => performance.now(),
  requestFrame: (callback) => {
    const frame = requestAnimationFrame(() => callback())
    return () => cancelAnimationFrame(frame)
  },
  afterTask: (callback) => queueMicrotask(callback),
  setTimer: (callback, milliseconds) => {
    const timer = setTimeout(callback, milliseconds)
    return () => clearTimeout(timer)
  },
}

/** How long a tab without animation frames (in the background) waits between flushes, ms. */
const backgroundInterval = 250

/** Calls `run` at the next animation frame, or after `backgroundInterval` when frames are paused. */
function nextFrame(clock: FrameClock, run: () => void): () => void {
  let pending = true
  const once = (): void => {
    if (!pending) return
    cancel()
    run()
  }
  const cancelFrame = clock.requestFrame(once)
  const cancelTimer = clock.setTimer(once, backgroundInterval)
  const cancel = (): void => {
    pending = false
    cancelFrame()
    cancelTimer()
  }
  return cancel
}

/**
 * Flushes as soon as the task that brought the events ends, once per animation frame: a frame from
 * the hub that arrives after another one was already applied since the last animation frame waits
 * for the next animation frame, with whatever else arrives until then. Those would be painted in
 * the same frame anyway, and this holds whatever the hub's tick (8–16 ms): frames that bunch up
 * (after a stall, or from a hub that ticks faster than the display) are applied together, never
 * one by one, while the first frame after a paint goes into the DOM at once.
 */
export function createArrivalScheduler(clock: FrameClock = browserClock): FlushScheduler {
  /** A flush ran as a frame arrived since the last animation frame: the next ones wait for it. */
  let flushedSinceFrame = false
  return (flush) => {
    if (flushedSinceFrame) return nextFrame(clock, flush)
    let pending = true
    clock.afterTask(() => {
      if (!pending) return
      flushedSinceFrame = true
      clock.requestFrame(() => {
        flushedSinceFrame = false
      })
      flush()
    })
    return () => {
      pending = false
    }
  }
}
