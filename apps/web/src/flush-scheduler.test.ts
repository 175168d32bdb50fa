import { describe, expect, it } from 'vitest'
import type { FrameClock } from './flush-scheduler.ts'
import { createArrivalScheduler } from './flush-scheduler.ts'

/** A clock the test drives: `endTask()` runs the microtasks, `frame()` an animation frame. */
function manualClock() {
  let tasks: Array<() => void> = []
  let frames: Array<{ callback: () => void; live: boolean }> = []
  let timers: Array<{ callback: () => void; live: boolean }> = []
  const clock: FrameClock = {
    afterTask: (callback) => tasks.push(callback),
    requestFrame: (callback) => {
      const entry = { callback, live: true }
      frames.push(entry)
      return () => {
        entry.live = false
      }
    },
    setTimer: (callback) => {
      const entry = { callback, live: true }
      timers.push(entry)
      return () => {
        entry.live = false
      }
    },
  }
  const runAll = (entries: Array<{ callback: () => void; live: boolean }>) => {
    for (const entry of entries) if (entry.live) entry.callback()
  }
  return {
    clock,
    endTask() {
      const now = tasks
      tasks = []
      for (const task of now) task()
    },
    frame() {
      const now = frames
      frames = []
      runAll(now)
    },
    /** The background timer fires (a tab with no animation frames). */
    timeout() {
      const now = timers
      timers = []
      runAll(now)
    },
  }
}

/** A store-like queue: `receive` asks the scheduler for a flush unless one is due. */
function queueWith(scheduler: ReturnType<typeof createArrivalScheduler>) {
  const flushed: string[][] = []
  let queue: string[] = []
  let scheduled = false
  return {
    flushed,
    receive(message: string) {
      queue.push(message)
      if (scheduled) return
      scheduled = true
      scheduler(() => {
        scheduled = false
        flushed.push(queue)
        queue = []
      })
    },
  }
}

describe('createArrivalScheduler', () => {
  it('flushes at the end of the task that brought the events, without waiting for a frame', () => {
    const time = manualClock()
    const queue = queueWith(createArrivalScheduler(time.clock))
    queue.receive('a')
    queue.receive('b')
    expect(queue.flushed).toEqual([])
    time.endTask()
    expect(queue.flushed).toEqual([['a', 'b']])
  })

  it('flushes at most once per animation frame: a second batch in the same frame waits for the next', () => {
    const time = manualClock()
    const queue = queueWith(createArrivalScheduler(time.clock))
    queue.receive('a')
    time.endTask()
    queue.receive('b')
    time.endTask()
    queue.receive('c')
    time.endTask()
    expect(queue.flushed).toEqual([['a']])
    time.frame()
    expect(queue.flushed).toEqual([['a'], ['b', 'c']])
    // That flush was this frame's: what comes next waits for the following frame.
    queue.receive('d')
    time.endTask()
    expect(queue.flushed).toHaveLength(2)
    time.frame()
    expect(queue.flushed.at(-1)).toEqual(['d'])
    // A frame with no flush lets the next batch through at once again.
    time.frame()
    queue.receive('e')
    time.endTask()
    expect(queue.flushed.at(-1)).toEqual(['e'])
  })

  it('keeps flushing in a tab without animation frames, a few times a second', () => {
    const time = manualClock()
    const queue = queueWith(createArrivalScheduler(time.clock))
    queue.receive('a')
    time.endTask()
    queue.receive('b')
    time.endTask()
    expect(queue.flushed).toEqual([['a']])
    time.timeout()
    expect(queue.flushed).toEqual([['a'], ['b']])
  })
})
