import type { RecordState } from '@spout/core/events'

/**
 * A record read from the input that waits for a free slot (`record-queued`): one quiet line, no
 * response box, so queued rows read apart from the running ones at a glance.
 */
export function QueuedRecord({ record }: { record: RecordState }) {
  return (
    <article
      className="record record--queued"
      data-record-id={record.recordId}
      data-status="queued"
      aria-label={`Record ${record.recordId}, queued`}
    >
      <header className="record-head">
        <span className="record-id">{record.recordId}</span>
        <span className="badge badge--queued">queued</span>
        <span className="muted record-queued-note">waiting for a free slot</span>
      </header>
    </article>
  )
}
