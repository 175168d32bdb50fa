import type { RecordMetrics, RecordState } from '@spout/core/events'
import { memo } from 'react'
import { formatCount, formatNanoseconds, formatRate } from '../format.ts'
import { CopyButton } from './CopyButton.tsx'
import { StopRecordButton } from './StopControls.tsx'

/** Id, state, retries, metrics and copy buttons. Memoized: a new token does not re-render it. */
export const RecordHead = memo(function RecordHead({
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

/** What "Copy prompt" copies: the prompt, or the messages as `role: content` blocks. */
export function promptText(record: RecordState): string {
  if (record.prompt !== undefined) return record.prompt
  return (record.messages ?? []).map((message) => `${message.role}: ${message.content}`).join('\n\n')
}
