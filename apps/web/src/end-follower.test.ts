import { describe, expect, it } from 'vitest'
import { EndFollower } from './end-follower.ts'

/**
 * A scroll area whose layout reads are counted, a virtualizer reduced to the numbers the follower
 * uses, and animation frames run by hand.
 */
function setup({ total = 1000, height = 200, count = 10 } = {}) {
  const element = document.createElement('div')
  let scrollTop = 0
  const reads = { scrollTop: 0 }
  const writes: number[] = []
  Object.defineProperty(element, 'scrollTop', {
    get: () => {
      reads.scrollTop++
      return scrollTop
    },
    set: (value: number) => {
      scrollTop = value
      writes.push(value)
    },
  })
  let frames: Array<() => void> = []
  const targetWindow = {
    requestAnimationFrame: (callback: () => void) => frames.push(callback),
    addEventListener: () => {},
    removeEventListener: () => {},
  }
  const reported: Array<[number, boolean]> = []
  const instance = {
    scrollElement: element,
    targetWindow,
    options: {
      count,
      getItemKey: (index: number) => index,
      estimateSize: () => 120,
    },
    scrollRect: { width: 500, height },
    scrollOffset: 0,
    itemSizeCache: new Map<number, number>(),
    getTotalSize: () => total,
    indexFromElement: () => 0,
  }
  const changes: boolean[] = []
  const follower = new EndFollower((following) => changes.push(following))
  const report = (offset: number, isScrolling: boolean): void => {
    reported.push([offset, isScrolling])
    instance.scrollOffset = offset
  }
  // biome-ignore lint/suspicious/noExplicitAny: a test double of the virtualizer's few fields
  const virtualizer = instance as any
  follower.observeOffset(virtualizer, report)
  return {
    element,
    follower,
    virtualizer,
    reads,
    writes,
    reported,
    changes,
    setTotal: (value: number) => {
      total = value
    },
    /** Runs the animation frames asked for so far (a new frame). */
    frame: () => {
      const due = frames
      frames = []
      for (const callback of due) callback()
    },
    /** The scroll event of the last write, as the browser dispatches it in the next frame. */
    scrollEvent: () => element.dispatchEvent(new Event('scroll')),
  }
}

const entry = (blockSize: number) =>
  ({ borderBoxSize: [{ blockSize, inlineSize: 500 }] }) as unknown as ResizeObserverEntry

describe('EndFollower', () => {
  it('writes the end once per frame, from its own numbers, and never reads the layout', () => {
    const list = setup()
    list.follower.keep()
    list.follower.keep()
    expect(list.writes).toEqual([]) // not in a task: in the next frame
    list.frame()
    expect(list.writes).toEqual([800])
    // The list grows again in the same frame: written in the next one.
    list.setTotal(1100)
    list.follower.keep()
    expect(list.writes).toEqual([800])
    list.scrollEvent()
    expect(list.reported).toEqual([[800, false]])
    list.frame()
    expect(list.writes).toEqual([800, 900])
    list.scrollEvent()
    list.frame()
    expect(list.writes).toEqual([800, 900])
    expect(list.reads.scrollTop).toBe(0)
  })

  it('brings the end into view right after a ResizeObserver delivery', async () => {
    const list = setup()
    // A row mounts: its size comes with the delivery, after this frame's animation frames.
    expect(list.follower.measure(list.element, undefined, list.virtualizer)).toBe(120)
    list.follower.keep()
    list.frame()
    expect(list.writes).toEqual([])
    expect(list.follower.measure(list.element, entry(150.4), list.virtualizer)).toBe(150)
    list.setTotal(1030)
    await Promise.resolve()
    expect(list.writes).toEqual([830])
    expect(list.reads.scrollTop).toBe(0)
  })

  it('reports a write the browser did not report (nothing moved) at the next frame', () => {
    const list = setup()
    list.follower.keep()
    list.frame()
    list.frame()
    expect(list.reported).toEqual([[800, false]])
    expect(list.reads.scrollTop).toBe(0)
  })

  it('pauses when the reader scrolls up and follows again when they come back to the end', () => {
    const list = setup()
    list.follower.keep()
    list.frame()
    list.scrollEvent()
    list.element.dispatchEvent(new WheelEvent('wheel', { deltaY: -100 }))
    expect(list.changes).toEqual([false])
    expect(list.follower.following).toBe(false)
    list.element.scrollTop = 300
    list.scrollEvent()
    expect(list.reported.at(-1)).toEqual([300, true])
    list.setTotal(1500)
    list.follower.keep()
    list.frame()
    expect(list.writes).toEqual([800, 300]) // paused: no write of its own
    list.element.scrollTop = 1290
    list.scrollEvent()
    expect(list.changes).toEqual([false, true])
    list.follower.keep()
    list.frame()
    expect(list.writes.at(-1)).toBe(1300)
  })

  it('follows again and goes to the end when asked', () => {
    const list = setup()
    list.element.dispatchEvent(new KeyboardEvent('keydown', { key: 'PageUp' }))
    expect(list.follower.following).toBe(false)
    list.follower.follow()
    expect(list.changes).toEqual([false, true])
    list.frame()
    expect(list.writes).toEqual([800])
  })
})
