import { type ReactVirtualizer, useVirtualizer } from '@tanstack/react-virtual'
import { type RefObject, useLayoutEffect, useRef, useState } from 'react'
import { EndFollower } from './end-follower.ts'

export interface FollowEnd {
  /** The scroll area: give it to the scrolling element. */
  scroller: RefObject<HTMLDivElement | null>
  virtualizer: ReactVirtualizer<HTMLDivElement, Element>
  /** Whether the view keeps the end of the list in sight. */
  following: boolean
  /** Follows again and jumps to the end ("Follow" button). */
  follow: () => void
}

/** While following, the end is kept in view by {@link EndFollower}, not by the library's anchoring. */
const leaveToFollower = (): boolean => false

/**
 * A virtualized list of `ids` (the keys of its items) that follows its end, where records start
 * streaming: growth and appends keep the end in sight, scrolling up pauses it, and coming back to
 * the end resumes it. Following never reads the layout (see {@link EndFollower}).
 */
export function useFollowEnd(ids: readonly string[]): FollowEnd {
  const scroller = useRef<HTMLDivElement>(null)
  const [following, setFollowing] = useState(true)
  const [follower] = useState(() => new EndFollower(setFollowing))

  const virtualizer = useVirtualizer({
    count: ids.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 120,
    getItemKey: (index) => ids[index] ?? index,
    overscan: 4,
    gap: 8,
    paddingStart: 8,
    paddingEnd: 8,
    useFlushSync: false,
    measureElement: follower.measure,
    observeElementOffset: follower.observeOffset,
    observeElementRect: follower.observeRect,
    scrollToFn: follower.scrollTo,
    // Until the viewport's first ResizeObserver report: the window's height.
    initialRect: { width: 0, height: typeof window === 'undefined' ? 0 : window.innerHeight },
    // Positions and the total height are written straight to the DOM; React renders only when the
    // set of rows in view changes, not on every scroll or resize.
    directDomUpdates: true,
    // Sizes changed (rows measured, the viewport resized): the end may have moved.
    onChange: follower.keep,
  })
  // Paused, rows that change size above the reader keep what they read in place (the library's
  // default); following, the follower alone moves the view.
  virtualizer.shouldAdjustScrollPositionOnItemSizeChange = following ? leaveToFollower : undefined

  // After every commit (a record added, the list filled, following resumed): the end may have moved.
  useLayoutEffect(() => follower.keep())

  return { scroller, virtualizer, following, follow: follower.follow }
}
