/** Runs `flush` soon (once), returns a function that cancels it. */
export type FlushScheduler = (flush: () => void) => () => void

/** What a scheduler waits on; the browser's by default, a test's own clock in unit tests. */
export interface FrameClock {
  requestFrame(callback: () => void): () => void
  /** Runs `callback` after the current task (a microtask). */
  afterTask(callback: () => void): void
  /** A timer, for tabs that get no animation frames. */
  setTimer(callback: () => void, milliseconds: number): () => void
}

export const browserClock: FrameClock = {
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
 * Flushes as soon as the task that brought the events ends, at most once per animation frame: the
 * first batch of a frame goes into the DOM at once (and shows in the frame being drawn next), what
 * arrives after it in the same frame waits for the next one. The hub already sends a viewer at most
 * one frame per tick (16 ms), about one per animation frame, so waiting for an animation frame
 * before each flush would only add up to 16.7 ms to every token. A flush stays ≤ 2 per frame when
 * frames bunch up after a stall (one on arrival, one at the next frame), never one per message.
 */
export function createArrivalScheduler(clock: FrameClock = browserClock): FlushScheduler {
  /** A flush ran since the last animation frame began. */
  let flushedThisFrame = false
  /** The next animation frame is asked to clear `flushedThisFrame`. */
  let frameEndAsked = false
  const noteFlush = (): void => {
    flushedThisFrame = true
    if (frameEndAsked) return
    frameEndAsked = true
    nextFrame(clock, () => {
      frameEndAsked = false
      flushedThisFrame = false
    })
  }
  return (flush) => {
    const run = (): void => {
      noteFlush()
      flush()
    }
    if (flushedThisFrame) return nextFrame(clock, run)
    let pending = true
    clock.afterTask(() => {
      if (pending) run()
    })
    return () => {
      pending = false
    }
  }
}
