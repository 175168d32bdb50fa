import type { RecordState } from '@spout/core/events'
import { formatCount } from '../format.ts'
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

/**
 * The records waiting for a slot, as one compact group at the end of the list: a chip per record
 * (its id, and its stop button for a page that holds the control token). A job reading ahead keeps
 * a dozen queued; as rows they would fill a view that follows the end and hide the records being
 * written. The "queued" filter shows them as rows.
 */
export function QueuedGroup({ jobId, recordIds }: { jobId: string; recordIds: readonly string[] }) {
  return (
    <section className="queued-group" aria-label={`${formatCount(recordIds.length)} queued records`}>
      <span className="badge badge--queued">{formatCount(recordIds.length)} queued</span>
      {recordIds.map((recordId) => (
        <article
          key={recordId}
          className="queued-chip"
          data-record-id={recordId}
          data-status="queued"
          aria-label={`Record ${recordId}, queued`}
        >
          <span className="record-id">{recordId}</span>
          <span className="visually-hidden">waiting for a free slot</span>
          <StopRecordButton jobId={jobId} recordId={recordId} status="queued" />
        </article>
      ))}
    </section>
  )
}
