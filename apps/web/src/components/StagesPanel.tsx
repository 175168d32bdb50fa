import type { JobState, RecordState } from '@spout/core/events'
import { getRecord } from '@spout/core/events'
import { type FormEvent, useId, useMemo, useState } from 'react'
import { formatCount } from '../format.ts'
import { ancestryOf, childrenOf, type StageProgress, stagedId, stageProgress } from '../stage-view.ts'
import { useThrottledJob } from '../use-viewer.ts'
import './stages.css'

/** Numbers and texts a person reads while they grow: four updates a second. */
const stagesInterval = 250
/** Record ids offered in the lineage picker (the latest of the last stage). */
const suggestions = 200

/**
 * A staged run (teacher → student → judge): each stage's progress, and the lineage of one record
 * (the question an answer came from, the verdict on it) as it grows. Nothing for other jobs.
 */
export function StagesPanel({ jobId }: { jobId: string }) {
  const job = useThrottledJob(jobId, stagesInterval)
  const [focus, setFocus] = useState<string | undefined>(undefined)
  const progress = useMemo(() => (job ? stageProgress(job) : undefined), [job])
  if (!job || !progress) return null
  const focused = focus && getRecord(job, focus) ? focus : latestDeepest(job)
  return (
    <section className="stages" aria-label="Stages">
      <StageProgressList progress={progress} />
      <Lineage job={job} focus={focused} onFocus={setFocus} />
    </section>
  )
}

function StageProgressList({ progress }: { progress: readonly StageProgress[] }) {
  return (
    <ol className="stage-progress">
      {progress.map((stage) => {
        const ended = stage.done + stage.failed + stage.filtered + stage.skipped
        const fraction = stage.total ? Math.min(1, ended / stage.total) : 0
        const total =
          stage.total === undefined ? '' : ` / ${stage.settled ? '' : '≥ '}${formatCount(stage.total)}`
        return (
          <li
            key={stage.name}
            data-stage={stage.name}
            data-done={stage.done}
            data-failed={stage.failed}
            data-filtered={stage.filtered}
            data-skipped={stage.skipped}
            data-running={stage.running}
            data-total={stage.total ?? ''}
          >
            <span className="stage-name">{stage.name}</span>
            <span className="progress" aria-hidden="true">
              <span className="progress-bar" style={{ transform: `scaleX(${fraction})` }} />
            </span>
            <span className="stats">
              <span title="records this stage ended, of those it gets (as far as known)">
                {formatCount(ended)}
                {total} ended
              </span>
              <span>{formatCount(stage.done)} passed on</span>
              {stage.failed > 0 ? <span className="danger">{formatCount(stage.failed)} failed</span> : null}
              {stage.filtered > 0 ? <span>{formatCount(stage.filtered)} filtered</span> : null}
              {stage.skipped > 0 ? (
                <span title="not asked again: stored by the run this one resumes">
                  {formatCount(stage.skipped)} resumed
                </span>
              ) : null}
              {stage.running > 0 ? <span>{formatCount(stage.running)} streaming</span> : null}
            </span>
          </li>
        )
      })}
    </ol>
  )
}

function Lineage({
  job,
  focus,
  onFocus,
}: {
  job: JobState
  focus: string | undefined
  onFocus: (recordId: string) => void
}) {
  const listId = useId()
  const [typed, setTyped] = useState('')
  const chain = focus ? ancestryOf(job, focus) : []
  const next = focus ? childrenOf(job, focus) : []
  const stages = job.stages ?? []
  const nextStage = focus ? stages[(stagedId(stages, focus)?.index ?? -2) + 1] : undefined
  const choose = (event: FormEvent) => {
    event.preventDefault()
    const found = findRecord(job, typed.trim())
    if (found) onFocus(found)
  }
  return (
    <div className="lineage">
      <form className="lineage-pick" onSubmit={choose}>
        <h3>Lineage</h3>
        <input
          type="text"
          aria-label="Record to trace"
          placeholder="a record id: judge:topic-3.q2, or topic-3.q2"
          list={listId}
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
        />
        <datalist id={listId}>
          {lastStageIds(job).map((id) => (
            <option key={id} value={id} />
          ))}
        </datalist>
        <button type="submit">Trace</button>
      </form>
      {chain.length === 0 ? (
        <p className="muted">No record yet.</p>
      ) : (
        <ol className="lineage-chain">
          {chain.map((record) => (
            <LineageStep key={record.recordId} job={job} record={record} onFocus={onFocus} />
          ))}
        </ol>
      )}
      {next.length > 0 ? (
        <p className="lineage-next">
          <span className="muted">next, {nextStage}:</span>
          {next.map((record) => (
            <RecordLink key={record.recordId} record={record} onFocus={onFocus} />
          ))}
        </p>
      ) : null}
    </div>
  )
}

function LineageStep({
  job,
  record,
  onFocus,
}: {
  job: JobState
  record: RecordState
  onFocus: (recordId: string) => void
}) {
  const stage = stagedId(job.stages ?? [], record.recordId)?.stage ?? ''
  const status = record.filtered !== undefined ? 'filtered' : record.status
  return (
    <li className="lineage-step" data-record-id={record.recordId} data-stage={stage} data-status={status}>
      <div className="lineage-head">
        <span className="stage-name">{stage}</span>
        <RecordLink record={record} onFocus={onFocus} />
        <span className={`badge badge--${status === 'filtered' ? 'interrupted' : status}`}>{status}</span>
      </div>
      {record.prompt !== undefined ? (
        <details className="lineage-prompt">
          <summary>prompt</summary>
          <p className="lineage-text">{record.prompt}</p>
        </details>
      ) : null}
      <p className="lineage-text lineage-response">{record.text}</p>
      {record.filtered !== undefined ? <p className="muted">filtered: {record.filtered}</p> : null}
      {record.error ? (
        <p className="record-error">
          <span className="record-error-code">{record.error.code}</span> {record.error.message}
        </p>
      ) : null}
    </li>
  )
}

function RecordLink({ record, onFocus }: { record: RecordState; onFocus: (recordId: string) => void }) {
  return (
    <button
      type="button"
      className="lineage-link"
      data-record-id={record.recordId}
      onClick={() => onFocus(record.recordId)}
    >
      {record.recordId.slice(record.recordId.indexOf(':') + 1)}
    </button>
  )
}

/** The latest record of the deepest stage reached: the longest lineage there is. */
function latestDeepest(job: JobState): string | undefined {
  const stages = job.stages ?? []
  let best: { recordId: string; index: number } | undefined
  for (let position = job.records.length - 1; position >= 0; position--) {
    const recordId = job.records[position]!.recordId
    const index = stagedId(stages, recordId)?.index ?? -1
    if (!best || index > best.index) best = { recordId, index }
    if (index === stages.length - 1) break
  }
  return best?.recordId
}

/** A record by its full id, or by its lineage id in the deepest stage that has it. */
function findRecord(job: JobState, typed: string): string | undefined {
  if (typed === '') return undefined
  if (getRecord(job, typed)) return typed
  const stages = job.stages ?? []
  for (let index = stages.length - 1; index >= 0; index--) {
    const recordId = `${stages[index]}:${typed}`
    if (getRecord(job, recordId)) return recordId
  }
  return undefined
}

function lastStageIds(job: JobState): string[] {
  const last = job.stages?.at(-1)
  if (!last) return []
  const ids: string[] = []
  for (let position = job.records.length - 1; position >= 0 && ids.length < suggestions; position--) {
    const recordId = job.records[position]!.recordId
    if (recordId.startsWith(`${last}:`)) ids.push(recordId)
  }
  return ids
}
