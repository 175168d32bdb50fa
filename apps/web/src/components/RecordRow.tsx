import type { EventError, RecordState } from '@spout/core/events'
import { memo, useCallback, useRef, useState } from 'react'
import { firstLine, formatCount } from '../format.ts'
import { retriesOf } from '../record-filter.ts'
import { useRecord } from '../use-viewer.ts'
import { Disclosure } from './Disclosure.tsx'
import { QueuedRecord } from './QueuedRecord.tsx'
import { RecordHead } from './RecordHead.tsx'
import { ExpandResponseButton, ResponseView } from './ResponseView.tsx'

/** Parts of a row the user can open; remembered while the row scrolls out of the virtual window. */
export type RowPart = 'prompt' | 'thinking' | 'response'

/** Which parts of which rows are open, keyed by `jobId\nrecordId`. Lives as long as the list. */
export type OpenParts = Map<string, Set<RowPart>>

/** A response this long (characters or lines) may overflow its box: offer to show it whole. */
const longResponse = { characters: 1200, lines: 12 }

export function isLongResponse(text: string): boolean {
  if (text.length >= longResponse.characters) return true
  let lines = 1
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
    if (++lines > longResponse.lines) return true
  }
  return false
}

export interface RecordRowProps {
  jobId: string
  recordId: string
  openParts: OpenParts
  /** Show responses as the raw text the model wrote instead of rendered Markdown. */
  raw?: boolean
}

/** One record. Memoized and subscribed to its own record only, so other records' chunks skip it. */
export const RecordRow = memo(function RecordRow({
  jobId,
  recordId,
  openParts,
  raw = false,
}: RecordRowProps) {
  const record = useRecord(jobId, recordId)
  if (!record) return null
  if (record.status === 'queued') return <QueuedRecord jobId={jobId} record={record} />
  return (
    <RecordView
      jobId={jobId}
      record={record}
      openParts={openParts}
      partsKey={`${jobId}\n${recordId}`}
      raw={raw}
    />
  )
})

export function RecordView({
  jobId,
  record,
  openParts,
  partsKey,
  raw = false,
}: {
  /** Set for a live row: its stop button can name the job. */
  jobId?: string
  record: RecordState
  openParts: OpenParts
  partsKey: string
  raw?: boolean
}) {
  const [open, toggle] = useOpenParts(openParts, partsKey)
  // The copy buttons read the record when clicked; the header need not re-render per token.
  const latestRecord = useRef(record)
  latestRecord.current = record
  const latest = useCallback(() => latestRecord.current, [])
  const streaming = record.status === 'streaming'
  const hasPrompt =
    record.prompt !== undefined || record.system !== undefined || record.messages !== undefined
  const expanded = open.has('response')
  return (
    <article
      className={`record record--${record.status}`}
      data-record-id={record.recordId}
      data-status={record.status}
      aria-label={`Record ${record.recordId}, ${record.status}`}
    >
      <RecordHead
        jobId={jobId}
        recordId={record.recordId}
        status={record.status}
        retries={retriesOf(record)}
        doneReason={record.doneReason}
        metrics={record.metrics}
        hasPrompt={hasPrompt}
        latest={latest}
      />
      {record.error ? <RecordErrorLine error={record.error} /> : null}
      {hasPrompt ? (
        <Disclosure
          className="record-part"
          label={record.system !== undefined ? 'Prompt and system prompt' : 'Prompt'}
          open={open.has('prompt')}
          onToggle={(value) => toggle('prompt', value)}
        >
          <PromptView record={record} />
        </Disclosure>
      ) : null}
      {record.thinking ? (
        <ThinkingPart
          thinking={record.thinking}
          pending={streaming && !record.text}
          open={open.has('thinking')}
          onToggle={(value) => toggle('thinking', value)}
        />
      ) : null}
      <ResponseView
        text={record.text}
        chunks={record.chunks}
        streaming={streaming}
        expanded={expanded}
        raw={raw}
      />
      {isLongResponse(record.text) ? (
        <ExpandResponseButton expanded={expanded} onToggle={(value) => toggle('response', value)} />
      ) : null}
    </article>
  )
}

/** The parts of a row that are open, kept in `openParts` so they outlive the row's unmounting. */
function useOpenParts(
  openParts: OpenParts,
  partsKey: string,
): [ReadonlySet<RowPart>, (part: RowPart, open: boolean) => void] {
  const [open, setOpen] = useState<ReadonlySet<RowPart>>(() => new Set(openParts.get(partsKey)))
  const toggle = (part: RowPart, value: boolean): void => {
    const next = new Set(open)
    if (value) next.add(part)
    else next.delete(part)
    openParts.set(partsKey, next)
    setOpen(next)
  }
  return [open, toggle]
}

function RecordErrorLine({ error }: { error: EventError }) {
  return (
    <p className="record-error" title={error.message}>
      <span className="record-error-code">{error.code}</span> {firstLine(error.message)}
    </p>
  )
}

/** The model's thinking, closed by default; "Thinking…" while it thinks and has not answered yet. */
function ThinkingPart({
  thinking,
  pending,
  open,
  onToggle,
}: {
  thinking: string
  pending: boolean
  open: boolean
  onToggle: (open: boolean) => void
}) {
  return (
    <Disclosure
      className="record-part record-thinking"
      label={
        <>
          {pending ? 'Thinking…' : 'Thinking'}{' '}
          <span className="muted">({formatCount(thinking.length)} characters)</span>
        </>
      }
      open={open}
      onToggle={onToggle}
    >
      <pre className="output output--thinking">{thinking}</pre>
    </Disclosure>
  )
}

function PromptView({ record }: { record: RecordState }) {
  return (
    <div className="prompt">
      {record.system !== undefined ? (
        <>
          <h4>System</h4>
          <pre className="output">{record.system}</pre>
        </>
      ) : null}
      {record.prompt !== undefined ? (
        <>
          <h4>Prompt</h4>
          <pre className="output">{record.prompt}</pre>
        </>
      ) : null}
      {record.messages?.map((message, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: messages never reorder
        <div key={index}>
          <h4>{message.role}</h4>
          <pre className="output">{message.content}</pre>
        </div>
      ))}
    </div>
  )
}
