import { useCallback, useMemo } from 'react'
import type { RecordFilter } from '../record-filter.ts'
import type { ListShape } from '../record-list-shape.ts'
import { createListShape, sameRows, sameShape } from '../record-list-shape.ts'
import { useFollowEnd } from '../use-follow-end.ts'
import { useViewerSelector } from '../use-viewer.ts'
import type { ViewerSnapshot } from '../viewer-store.ts'
import { QueuedGroup } from './QueuedRecord.tsx'
import type { OpenParts } from './RecordRow.tsx'
import { RecordRow } from './RecordRow.tsx'

/**
 * What the list shows for a job and a filter; a new value only when a record was added, or moved
 * between the rows and the queued group. Taken at every flush of the store (about once per
 * animation frame), so a record's row is in the page in the frame its first tokens arrive.
 */
export function useListShape(
  jobId: string,
  filter: RecordFilter,
  isEqual: (a: ListShape, b: ListShape) => boolean = sameShape,
): ListShape {
  const shape = useMemo(createListShape, [])
  const selector = useCallback(
    (snapshot: ViewerSnapshot) => shape(snapshot.state.jobs[jobId]?.records ?? [], filter),
    [shape, jobId, filter],
  )
  return useViewerSelector(selector, isEqual)
}

/** The key of the queued group's item in the virtual list. */
const queuedKey = '\u0000queued'

function QueuedRows({ jobId, filter }: { jobId: string; filter: RecordFilter }) {
  const { queued } = useListShape(jobId, filter)
  return <QueuedGroup jobId={jobId} recordIds={queued} />
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
  // Records joining the queued group do not re-render the list: the group follows them itself.
  const { ids, queued } = useListShape(jobId, filter, sameRows)
  const grouped = queued.length > 0
  const keys = useMemo(() => (grouped ? [...ids, queuedKey] : ids), [ids, grouped])
  const openParts = useMemo<OpenParts>(() => new Map(), [])
  const { scroller, virtualizer, following, follow } = useFollowEnd(keys)

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
        {keys.length === 0 ? <p className="muted records-empty">No records match.</p> : null}
        <div className="records-canvas" ref={virtualizer.containerRef}>
          {items.map((item) => (
            <div
              key={item.key}
              data-index={item.index}
              ref={virtualizer.measureElement}
              className="records-item"
            >
              {item.index < ids.length ? (
                <RecordRow jobId={jobId} recordId={ids[item.index]!} openParts={openParts} raw={raw} />
              ) : (
                <QueuedRows jobId={jobId} filter={filter} />
              )}
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
