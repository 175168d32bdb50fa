import type { RecordState } from '@spout/core/events'
import { StopRecordButton } from './StopControls.tsx'

/**
 * A record read from the input that waits for a free slot (`record-queued`): one quiet line, no
 * response box, so queued rows read apart from the running ones at a glance.
 */
export function QueuedRecord({ jobId, record }: { jobId: string; record: RecordState }) {
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
        <span className="record-actions">
          <StopRecordButton jobId={jobId} recordId={record.recordId} status="queued" />
        </span>
      </header>
    </article>
  )
}
