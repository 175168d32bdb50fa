import { describe, expect, it } from 'vitest'
import type { FrameClock } from './flush-scheduler.ts'
import { createArrivalScheduler, minFlushGap } from './flush-scheduler.ts'

/** A clock the test drives: `endTask()` runs the microtasks, `frame()` an animation frame. */
function manualClock() {
  let time = 0
  let tasks: Array<() => void> = []
  let frames: Array<{ callback: () => void; live: boolean }> = []
  let timers: Array<{ callback: () => void; live: boolean }> = []
  const clock: FrameClock = {
    now: () => time,
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
    advance(milliseconds: number) {
      time += milliseconds
    },
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

  it('applies frames the hub sends a tick apart each at once', () => {
    const time = manualClock()
    const queue = queueWith(createArrivalScheduler(time.clock))
    for (const message of ['a', 'b', 'c']) {
      queue.receive(message)
      time.endTask()
      time.advance(16)
    }
    expect(queue.flushed).toEqual([['a'], ['b'], ['c']])
  })

  it(`applies frames closer than ${minFlushGap} ms to the last flush together, at the next animation frame`, () => {
    const time = manualClock()
    const queue = queueWith(createArrivalScheduler(time.clock))
    queue.receive('a')
    time.endTask()
    time.advance(2)
    queue.receive('b')
    time.endTask()
    time.advance(2)
    queue.receive('c')
    time.endTask()
    expect(queue.flushed).toEqual([['a']])
    time.advance(5)
    time.frame()
    expect(queue.flushed).toEqual([['a'], ['b', 'c']])
    // That flush counts too: a frame right after it waits for the next animation frame.
    time.advance(3)
    queue.receive('d')
    time.endTask()
    expect(queue.flushed).toHaveLength(2)
    time.frame()
    expect(queue.flushed.at(-1)).toEqual(['d'])
    // After a quiet spell the next frame goes in at once again.
    time.advance(minFlushGap)
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
