import { type ReactVirtualizer, useVirtualizer, type Virtualizer } from '@tanstack/react-virtual'
import { type RefObject, useEffect, useLayoutEffect, useRef, useState } from 'react'

/** How close to the end (px) still counts as "at the end" for follow mode. */
const endThreshold = 48
const scrollUpKeys = new Set(['ArrowUp', 'PageUp', 'Home'])

export interface FollowEnd {
  /** The scroll area: give it to the scrolling element. */
  scroller: RefObject<HTMLDivElement | null>
  virtualizer: ReactVirtualizer<HTMLDivElement, Element>
  /** Whether the view keeps the end of the list in sight. */
  following: boolean
  /** Follows again and jumps to the end ("Follow" button). */
  follow: () => void
}

/**
 * A virtualized list of `ids` (the keys of its items) that follows its end, where records start
 * streaming: growth and appends keep the end in sight, scrolling up pauses it, and coming back to
 * the end resumes it.
 */
export function useFollowEnd(ids: readonly string[]): FollowEnd {
  const scroller = useRef<HTMLDivElement>(null)
  const [following, setFollowing] = useState(true)
  const followingRef = useRef(following)
  followingRef.current = following
  const hasRecordsRef = useRef(false)
  hasRecordsRef.current = ids.length > 0

  const virtualizer = useVirtualizer({
    count: ids.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 120,
    getItemKey: (index) => ids[index] ?? index,
    overscan: 4,
    anchorTo: 'end',
    followOnAppend: following,
    scrollEndThreshold: endThreshold,
    gap: 8,
    paddingStart: 8,
    paddingEnd: 8,
    useFlushSync: false,
    measureElement: measureFromObserver,
    // Positions and the total height are written straight to the DOM; React renders only when the
    // set of rows in view changes, not on every scroll or resize.
    directDomUpdates: true,
    // A row that grew without the end moving (a prompt opened, a response box filled) can leave a
    // following view short of the end; catch up from the virtualizer's own numbers (no layout read).
    onChange: (instance) => {
      if (!followingRef.current || instance.isScrolling) return
      const distance =
        instance.getTotalSize() - (instance.scrollOffset ?? 0) - (instance.scrollRect?.height ?? 0)
      if (distance > endThreshold) instance.scrollToEnd()
    },
  })

  // Growth and appends at the end keep the view pinned by themselves (`anchorTo: 'end'` and
  // `followOnAppend`); this only brings the view to the end when following starts or the list fills.
  const hasRecords = ids.length > 0
  useLayoutEffect(() => {
    if (following && hasRecords) virtualizer.scrollToEnd()
  }, [following, hasRecords, virtualizer])

  usePauseOnScrollUp(scroller, followingRef, hasRecordsRef, setFollowing)
  const follow = (): void => {
    setFollowing(true)
    virtualizer.scrollToEnd()
  }
  return { scroller, virtualizer, following, follow }
}

/**
 * A row's height from its ResizeObserver entry, which the browser fills in during its own layout.
 * When a row mounts there is no entry yet: its last known height (or the estimate) stands until the
 * observer's first report, in the same frame, before it is painted. Reading `offsetHeight` there
 * instead (the library's default) forces a layout of the whole page for every row that mounts.
 */
function measureFromObserver(
  element: Element,
  entry: ResizeObserverEntry | undefined,
  instance: Virtualizer<HTMLDivElement, Element>,
): number {
  const box = entry?.borderBoxSize?.[0]
  if (box) return Math.round(box.blockSize)
  const index = instance.indexFromElement(element)
  return (
    instance.itemSizeCache.get(instance.options.getItemKey(index)) ?? instance.options.estimateSize(index)
  )
}

/** Pauses following when the reader scrolls up, and follows again when they come back to the end. */
function usePauseOnScrollUp(
  scroller: RefObject<HTMLDivElement | null>,
  followingRef: RefObject<boolean>,
  hasRecordsRef: RefObject<boolean>,
  setFollowing: (following: boolean) => void,
): void {
  useEffect(() => {
    const element = scroller.current
    if (!element) return
    const pause = (): void => {
      if (followingRef.current) setFollowing(false)
    }
    let pointerDown = false
    const onWheel = (event: WheelEvent): void => {
      if (event.deltaY < 0) pause()
    }
    const onKey = (event: KeyboardEvent): void => {
      if (scrollUpKeys.has(event.key)) pause()
    }
    const onTouchMove = (): void => {
      if (element.scrollHeight - element.scrollTop - element.clientHeight > endThreshold) pause()
    }
    const onPointerDown = (event: PointerEvent): void => {
      pointerDown = event.target === element
    }
    const onPointerUp = (): void => {
      pointerDown = false
    }
    const onScroll = (): void => {
      const atEnd = element.scrollHeight - element.scrollTop - element.clientHeight <= endThreshold
      if (pointerDown && !atEnd) pause()
      // Not following means no scroll is ours: the reader came back to the end, so follow again.
      else if (!followingRef.current && atEnd && hasRecordsRef.current) setFollowing(true)
    }
    element.addEventListener('wheel', onWheel, { passive: true })
    element.addEventListener('keydown', onKey)
    element.addEventListener('touchmove', onTouchMove, { passive: true })
    element.addEventListener('pointerdown', onPointerDown)
    window.addEventListener('pointerup', onPointerUp)
    element.addEventListener('scroll', onScroll, { passive: true })
    return () => {
      element.removeEventListener('wheel', onWheel)
      element.removeEventListener('keydown', onKey)
      element.removeEventListener('touchmove', onTouchMove)
      element.removeEventListener('pointerdown', onPointerDown)
      window.removeEventListener('pointerup', onPointerUp)
      element.removeEventListener('scroll', onScroll)
    }
  }, [scroller, followingRef, hasRecordsRef, setFollowing])
}
