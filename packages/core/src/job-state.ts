// The reducer's state: jobs by id, each with its records in the order they first appeared, and the
// look-ups into it. Folded from events by `reducer.ts`; the hub snapshots it, viewers render it.
import type { EventError, EventMessage, HostReport, JobSummary, RecordMetrics } from './events.ts'

/** `queued`: read from the input, waiting for a slot (see `record-queued`); then `streaming`, then one of the ends. */
export type RecordStatus = 'queued' | 'streaming' | 'done' | 'failed' | 'skipped'

export interface RecordState {
  readonly recordId: string
  readonly status: RecordStatus
  /** The attempt in progress (or the last one); 0 while queued. */
  readonly attempt: number
  readonly model: string
  readonly system?: string
  readonly prompt?: string
  readonly messages?: readonly EventMessage[]
  /** The response so far; the final `response` once the record ends. */
  readonly text: string
  readonly thinking: string
  /** Chunks applied in the current attempt (the next expected `seq`). */
  readonly chunks: number
  readonly doneReason?: string
  readonly metrics?: RecordMetrics
  readonly error?: EventError
  readonly attempts?: number
  /** Staged runs: why the stage's filter dropped the record after it. */
  readonly filtered?: string
  /** Staged runs: the records the stage's split made of this one. */
  readonly children?: number
}

/** One stage's records in a staged run, exact however many records the state has let go. */
export interface StageCounts {
  readonly streaming: number
  /** Records the stage answered, the ones its filter dropped included. */
  readonly ok: number
  readonly failed: number
  /** Of `ok`, the records the stage's filter dropped. Absent in states from before it was counted. */
  readonly filtered?: number
  /** Records a resumed run did not ask again (a stored result, or one already in the output). */
  readonly skipped?: number
  /** Records the stage handed to the next one: each answer that went on, or its split's children. */
  readonly passedOn?: number
}

export type JobStatus = 'running' | 'done' | 'failed' | 'interrupted'

export interface JobState {
  readonly jobId: string
  readonly name: string
  readonly model: string
  readonly host: string
  readonly total?: number
  /** Staged runs: the stages' names, in order (records' ids are `<stage>:<id>`). */
  readonly stages?: readonly string[]
  /**
   * Staged runs: each stage's records streaming, done and failed (from the events' `stage`), kept
   * like the job's own counters when records are pruned. Absent until a record names its stage.
   */
  readonly stageCounts?: Readonly<Record<string, StageCounts>>
  readonly startedAt: string
  readonly endedAt?: string
  readonly status: JobStatus
  readonly summary?: JobSummary
  readonly ok: number
  readonly failed: number
  readonly skipped: number
  /** Records currently streaming. */
  readonly streaming: number
  /**
   * Records read ahead of a free slot, waiting (`record-queued`). Absent in snapshots from a hub
   * older than the queued status. Queued records that never started leave `records` at job-end.
   */
  readonly queued?: number
  /** Attempts after the first, over all records. */
  readonly retries: number
  /** Tokens reported by finished records (`eval_count`). */
  readonly tokens: number
  /** Chunks seen over the whole job (a live token count while records stream). */
  readonly chunkCount: number
  /** A pool's hosts as the last `hosts` event (then the job-end's summary) gave them. */
  readonly hosts?: readonly HostReport[]
  /** Records in the order they first appeared. */
  readonly records: readonly RecordState[]
  /**
   * Record id → position in `records`. Append-only and shared between states: look records up
   * with {@link getRecord}, which checks the position against this state's `records`.
   */
  readonly recordIndex: ReadonlyMap<string, number>
  /** Highest hub `sequence` applied to this job (0 when events carry none). */
  readonly lastSequence: number
  /**
   * Finished records dropped from `records` by {@link pruneRecords} (absent when none were). The
   * counters above still count them.
   */
  readonly prunedRecords?: number
}

export interface SpoutState {
  readonly jobs: Readonly<Record<string, JobState>>
  /** Job ids, oldest first. */
  readonly jobOrder: readonly string[]
}

export function createState(): SpoutState {
  return { jobs: jobTable(), jobOrder: [] }
}

/**
 * A table of jobs by id with no prototype, copied from `source`: job ids come from producers, and a job
 * named `constructor` or `__proto__` must be a job like any other, not a property of `Object.prototype`.
 * @internal
 */
export function jobTable(source?: Readonly<Record<string, JobState>>): Record<string, JobState> {
  const table = Object.create(null) as Record<string, JobState>
  return source === undefined ? table : Object.assign(table, source)
}

/** The job with this id, if the state holds one (never an inherited property). @internal */
export function jobOf(state: SpoutState, jobId: string): JobState | undefined {
  return Object.hasOwn(state.jobs, jobId) ? state.jobs[jobId] : undefined
}

/** The record with this id, if the job still holds it (see {@link pruneRecords}). */
export function getRecord(
  job: Pick<JobState, 'records' | 'recordIndex'>,
  recordId: string,
): RecordState | undefined {
  const position = job.recordIndex.get(recordId)
  if (position === undefined) return undefined
  const record = job.records[position]
  return record?.recordId === recordId ? record : undefined
}
