import type { EventError, SpoutEvent } from '@spout/core'
import {
  applyEvents,
  createState,
  dropRecords,
  getRecord,
  type JobState,
  type RecordState,
  type SpoutState,
} from '@spout/core/events'

export interface RecordFailure {
  recordId: string
  error: EventError
}

export interface JobViewOptions {
  /**
   * Keep ended records (with their final text) until {@link JobView.release}: the streaming layout
   * prints each one whole before it lets go. Default false: a record is dropped once the frame that
   * saw it end has taken its failure.
   */
  keepEnded?: boolean
}

/** An ended record (done or failed; a skipped record is never shown). */
export function hasEnded(record: RecordState): boolean {
  return record.status === 'done' || record.status === 'failed'
}

/**
 * What the terminal display shows of a job: core's reducer state (the one the hub and the browser
 * fold), kept small. Its counters count every record; its records are those in flight and, for the
 * streaming layout, the ended ones not printed yet: a finished record is dropped (its result is in
 * the output file), so the size depends on the concurrency, never on how many records the job ran.
 */
export class JobView {
  readonly #keepEnded: boolean
  #state: SpoutState = createState()
  #jobId: string | undefined
  #failures: RecordFailure[] = []
  /** Failures already taken, of records still held (`keepEnded`). */
  readonly #failuresTaken = new Set<string>()

  constructor(options: JobViewOptions = {}) {
    this.#keepEnded = options.keepEnded ?? false
  }

  /** The job as the reducer folded it; undefined before its first event. */
  get job(): JobState | undefined {
    return this.#jobId === undefined ? undefined : this.#state.jobs[this.#jobId]
  }

  /** The records shown, in the order they appeared: in flight, then (with `keepEnded`) ended, not released. */
  records(): RecordState[] {
    return (this.job?.records ?? []).filter((record) => record.status !== 'queued')
  }

  /** How many records the view holds (in flight, plus ended ones not released yet). */
  get retained(): number {
    return this.records().length
  }

  /** The failures since the last call, in the order the records appeared. */
  takeFailures(): RecordFailure[] {
    const failures = this.#failures
    this.#failures = []
    return failures
  }

  /** Forgets an ended record (the streaming layout has printed it). */
  release(recordId: string): void {
    const job = this.job
    const record = job && getRecord(job, recordId)
    if (!record || !hasEnded(record)) return
    this.#state = dropRecords(this.#state, job.jobId, (each) => each === record)
    this.#failuresTaken.delete(recordId)
  }

  /** Folds events with core's reducer, notes the failures, and lets go of what is no longer shown. */
  apply(eventOrEvents: SpoutEvent | readonly SpoutEvent[]): void {
    const events = Array.isArray(eventOrEvents) ? eventOrEvents : [eventOrEvents as SpoutEvent]
    if (events.length === 0) return
    this.#jobId ??= events[0]!.jobId
    this.#state = applyEvents(this.#state, events)
    const job = this.job
    if (!job) return
    for (const record of job.records) {
      if (record.status !== 'failed' || this.#failuresTaken.has(record.recordId)) continue
      this.#failures.push({ recordId: record.recordId, error: record.error! })
      if (this.#keepEnded) this.#failuresTaken.add(record.recordId)
    }
    const keep = this.#keepEnded
    this.#state = dropRecords(this.#state, job.jobId, (record) => record.status === 'skipped' || !keep)
  }
}
