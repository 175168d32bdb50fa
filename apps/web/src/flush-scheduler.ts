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
 * A flush closer than this to the previous one (ms) waits for the next animation frame. The hub
 * sends a viewer one frame per 16 ms tick, so its frames normally arrive further apart and each is
 * applied at once; frames that bunch up (after a stall, or a late tick) are applied together.
 */
export const minFlushGap = 10

/**
 * Flushes as soon as the task that brought the events ends, unless a flush ran less than
 * {@link minFlushGap} ms ago: then at the next animation frame, with whatever else arrives until
 * then. The hub already sends a viewer at most one frame per tick (16 ms), about one per animation
 * frame, so waiting for an animation frame before every flush would only add up to 16.7 ms to every
 * token; and frames that bunch up are never rendered one by one.
 */
export function createArrivalScheduler(clock: FrameClock = browserClock): FlushScheduler {
  let flushedAt = Number.NEGATIVE_INFINITY
  return (flush) => {
    const run = (): void => {
      flushedAt = clock.now()
      flush()
    }
    if (clock.now() - flushedAt < minFlushGap) return nextFrame(clock, run)
    let pending = true
    clock.afterTask(() => {
      if (pending) run()
    })
    return () => {
      pending = false
    }
  }
}
