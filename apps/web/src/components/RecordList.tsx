import { useVirtualizer } from '@tanstack/react-virtual'
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import type { RecordFilter } from '../record-filter.ts'
import { createRecordMatcher } from '../record-filter.ts'
import { shallowEqualArrays, useThrottledSelector } from '../use-viewer.ts'
import type { ViewerSnapshot } from '../viewer-store.ts'
import type { OpenParts } from './RecordRow.tsx'
import { RecordRow } from './RecordRow.tsx'

/** How close to the end (px) still counts as "at the end" for follow mode. */
const endThreshold = 48
const scrollUpKeys = new Set(['ArrowUp', 'PageUp', 'Home'])

/** How often (ms) at most the list takes new records; text in the rows updates every frame. */
const listInterval = 100

/** The ids of a job's records that pass the filter; a new array only when the list changed. */
export function useFilteredRecordIds(jobId: string, filter: RecordFilter): string[] {
  const matcher = useMemo(createRecordMatcher, [])
  const selector = useCallback(
    (snapshot: ViewerSnapshot) => matcher(snapshot.state.jobs[jobId]?.records ?? [], filter),
    [matcher, jobId, filter],
  )
  return useThrottledSelector(selector, shallowEqualArrays, listInterval)
}

/**
 * The virtualized list of a job's records. Only the rows in view (plus a few) are mounted, so ten
 * thousand records cost about as much as twenty. Follow mode keeps the end of the list, where
 * records start streaming, in sight; scrolling up pauses it and "Follow" resumes it.
 */
export function RecordList({
  jobId,
  filter,
  raw = false,
}: {
  jobId: string
  filter: RecordFilter
  /** Responses as raw text instead of rendered Markdown. */
  raw?: boolean
}) {
  const ids = useFilteredRecordIds(jobId, filter)
  const openParts = useMemo<OpenParts>(() => new Map(), [])
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
  }, [])

  const items = virtualizer.getVirtualItems()
  return (
    <div className="records">
      <div
        ref={scroller}
        className="records-scroller"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the scroll area must be reachable by keyboard
        tabIndex={0}
        role="feed"
        aria-busy={false}
        aria-label="Records"
        data-following={following ? 'true' : 'false'}
      >
        {ids.length === 0 ? <p className="muted records-empty">No records match.</p> : null}
        <div className="records-canvas" ref={virtualizer.containerRef}>
          {items.map((item) => (
            <div
              key={item.key}
              data-index={item.index}
              ref={virtualizer.measureElement}
              className="records-item"
            >
              <RecordRow jobId={jobId} recordId={ids[item.index]!} openParts={openParts} raw={raw} />
            </div>
          ))}
        </div>
      </div>
      {following ? null : (
        <button
          type="button"
          className="button follow-button"
          onClick={() => {
            setFollowing(true)
            virtualizer.scrollToEnd()
          }}
        >
          Follow live records ↓
        </button>
      )}
    </div>
  )
}
