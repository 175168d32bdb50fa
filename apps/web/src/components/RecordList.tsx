import { useCallback, useMemo } from 'react'
import type { RecordFilter } from '../record-filter.ts'
import { createRecordMatcher } from '../record-filter.ts'
import { useFollowEnd } from '../use-follow-end.ts'
import { shallowEqualArrays, useThrottledSelector } from '../use-viewer.ts'
import type { ViewerSnapshot } from '../viewer-store.ts'
import type { OpenParts } from './RecordRow.tsx'
import { RecordRow } from './RecordRow.tsx'

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
  const { scroller, virtualizer, following, follow } = useFollowEnd(ids)

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
        <button type="button" className="button follow-button" onClick={follow}>
          Follow live records ↓
        </button>
      )}
    </div>
  )
}
