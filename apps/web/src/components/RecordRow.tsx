import type { RecordMetrics, RecordState } from '@spout/core/events'
import type { ReactNode } from 'react'
import { memo, useCallback, useRef, useState } from 'react'
import { firstLine, formatCount, formatNanoseconds, formatRate } from '../format.ts'
import { retriesOf } from '../record-filter.ts'
import { useRecord } from '../use-viewer.ts'
import { CopyButton } from './CopyButton.tsx'
import { MarkdownView } from './MarkdownView.tsx'
import { QueuedRecord } from './QueuedRecord.tsx'
import { StopRecordButton } from './StopControls.tsx'

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
  const [open, setOpen] = useState<ReadonlySet<RowPart>>(() => new Set(openParts.get(partsKey)))
  const toggle = (part: RowPart, value: boolean): void => {
    const next = new Set(open)
    if (value) next.add(part)
    else next.delete(part)
    openParts.set(partsKey, next)
    setOpen(next)
  }
  // The copy buttons read the record when clicked; the header need not re-render per token.
  const latestRecord = useRef(record)
  latestRecord.current = record
  const latest = useCallback(() => latestRecord.current, [])
  const retries = retriesOf(record)
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
        retries={retries}
        doneReason={record.doneReason}
        metrics={record.metrics}
        hasPrompt={hasPrompt}
        latest={latest}
      />
      {record.error ? (
        <p className="record-error" title={record.error.message}>
          <span className="record-error-code">{record.error.code}</span> {firstLine(record.error.message)}
        </p>
      ) : null}
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
        <Disclosure
          className="record-part record-thinking"
          label={
            <>
              {streaming && !record.text ? 'Thinking…' : 'Thinking'}{' '}
              <span className="muted">({formatCount(record.thinking.length)} characters)</span>
            </>
          }
          open={open.has('thinking')}
          onToggle={(value) => toggle('thinking', value)}
        >
          <pre className="output output--thinking">{record.thinking}</pre>
        </Disclosure>
      ) : null}
      <ResponseView
        text={record.text}
        chunks={record.chunks}
        streaming={streaming}
        expanded={expanded}
        raw={raw}
      />
      {isLongResponse(record.text) ? (
        <button
          type="button"
          className="button button--small record-expand"
          aria-expanded={expanded}
          onClick={() => toggle('response', !expanded)}
        >
          {expanded ? 'Collapse response' : 'Show whole response'}
        </button>
      ) : null}
    </article>
  )
}

/** Id, state, retries, metrics and copy buttons. Memoized: a new token does not re-render it. */
const RecordHead = memo(function RecordHead({
  jobId,
  recordId,
  status,
  retries,
  doneReason,
  metrics,
  hasPrompt,
  latest,
}: {
  jobId: string | undefined
  recordId: string
  status: RecordState['status']
  retries: number
  doneReason: string | undefined
  metrics: RecordMetrics | undefined
  hasPrompt: boolean
  latest: () => RecordState
}) {
  return (
    <header className="record-head">
      <span className="record-id">{recordId}</span>
      <span className={`badge badge--${status}`}>{status}</span>
      {retries > 0 ? (
        <span className="badge badge--retried" title="attempts after the first">
          retried {retries}×
        </span>
      ) : null}
      {doneReason && doneReason !== 'stop' ? (
        <span className="badge" title="done reason">
          {doneReason}
        </span>
      ) : null}
      {metrics && status !== 'streaming' ? <RecordMetricsLine metrics={metrics} /> : null}
      <span className="record-actions">
        {jobId !== undefined ? <StopRecordButton jobId={jobId} recordId={recordId} status={status} /> : null}
        {hasPrompt ? <CopyButton label="Copy prompt" text={() => promptText(latest())} /> : null}
        <CopyButton label="Copy response" text={() => latest().text} />
      </span>
    </header>
  )
})

/**
 * The response, rendered as Markdown (or the raw text in monospace). A long response sits in a
 * fixed-height box (no layout jumps). While a row watches its record stream, the box is a
 * `column-reverse` flex container: the browser keeps it pinned to the newest text with no script
 * reading layout on every token. A record that was already finished when its row mounted shows
 * from the top.
 */
function ResponseView({
  text,
  chunks,
  streaming,
  expanded,
  raw,
}: {
  text: string
  /** Chunks in the text (`data-chunks`: the e2e suite times when each token reaches the page). */
  chunks: number
  streaming: boolean
  expanded: boolean
  raw: boolean
}) {
  const [tail, setTail] = useState(streaming)
  if (streaming && !tail) setTail(true)
  return (
    <div
      className={expanded ? 'response-box' : 'response-box response-box--boxed'}
      data-tail={tail ? 'true' : undefined}
      data-chunks={chunks}
      tabIndex={expanded ? undefined : 0}
    >
      {raw ? (
        <pre
          className="output record-response"
          data-format="raw"
          data-streaming={streaming ? 'true' : undefined}
        >
          {text}
          {streaming ? <span className="caret" aria-hidden="true" /> : null}
          {!text && !streaming ? <span className="muted">(empty response)</span> : null}
        </pre>
      ) : (
        <div className="output output--markdown" data-streaming={streaming ? 'true' : undefined}>
          <MarkdownView text={text} className="markdown record-response" />
          {streaming ? <span className="caret" aria-hidden="true" /> : null}
          {!text && !streaming ? <span className="muted">(empty response)</span> : null}
        </div>
      )}
    </div>
  )
}

/** A button that shows or hides its content; the content is not rendered while closed. */
function Disclosure({
  className,
  label,
  open,
  onToggle,
  children,
}: {
  className: string
  label: ReactNode
  open: boolean
  onToggle: (open: boolean) => void
  children: ReactNode
}) {
  return (
    <div className={className} data-open={open ? 'true' : 'false'}>
      <button type="button" className="disclosure" aria-expanded={open} onClick={() => onToggle(!open)}>
        {label}
      </button>
      {open ? children : null}
    </div>
  )
}

function RecordMetricsLine({ metrics }: { metrics: RecordMetrics }) {
  return (
    <span className="record-metrics">
      {metrics.eval_count !== undefined ? <span>{formatCount(metrics.eval_count)} tokens</span> : null}
      {metrics.tokens_per_second !== undefined ? (
        <span>{formatRate(metrics.tokens_per_second)} tok/s</span>
      ) : null}
      {metrics.prompt_eval_count !== undefined ? (
        <span title="prompt tokens">{formatCount(metrics.prompt_eval_count)} in</span>
      ) : null}
      {metrics.total_duration !== undefined ? (
        <span title="total duration">{formatNanoseconds(metrics.total_duration)}</span>
      ) : null}
    </span>
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

/** What "Copy prompt" copies: the prompt, or the messages as `role: content` blocks. */
export function promptText(record: RecordState): string {
  if (record.prompt !== undefined) return record.prompt
  return (record.messages ?? []).map((message) => `${message.role}: ${message.content}`).join('\n\n')
}
