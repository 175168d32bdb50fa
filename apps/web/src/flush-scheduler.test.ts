import { describe, expect, it } from 'vitest'
import type { FrameClock } from './flush-scheduler.ts'
import { createArrivalScheduler } from './flush-scheduler.ts'

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

  it('applies frames the hub sends an animation frame apart each at once', () => {
    const time = manualClock()
    const queue = queueWith(createArrivalScheduler(time.clock))
    for (const message of ['a', 'b', 'c']) {
      queue.receive(message)
      time.endTask()
      time.advance(16)
      time.frame()
    }
    expect(queue.flushed).toEqual([['a'], ['b'], ['c']])
  })

  it('applies one frame at once per animation frame; the others that arrive before it together, in it', () => {
    const time = manualClock()
    const queue = queueWith(createArrivalScheduler(time.clock))
    queue.receive('a')
    time.endTask()
    time.advance(4)
    queue.receive('b')
    time.endTask()
    time.advance(4)
    queue.receive('c')
    time.endTask()
    expect(queue.flushed).toEqual([['a']])
    time.advance(5)
    time.frame()
    expect(queue.flushed).toEqual([['a'], ['b', 'c']])
    // A new animation frame began: the next frame from the hub goes in at once again.
    time.advance(4)
    queue.receive('d')
    time.endTask()
    expect(queue.flushed.at(-1)).toEqual(['d'])
    queue.receive('e')
    time.endTask()
    expect(queue.flushed).toHaveLength(3)
    time.frame()
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
