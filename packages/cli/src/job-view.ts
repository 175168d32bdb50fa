import type { EventError, SpoutEvent } from '@spout/core'
import type { RecordEndEvent, RecordMetrics } from '@spout/core/events'

/** A record the terminal display still shows: in flight, or ended and not drawn yet. */
export interface RecordView {
  readonly recordId: string
  model: string
  /** 1 for the first attempt; a new attempt starts the text over. */
  attempt: number
  /** Chunks of the current attempt taken so far (a replayed chunk is ignored). */
  chunks: number
  /** The text so far (with `textLimit`: its newest part only). */
  text: string
  thinking: string
  /** Set when the record has ended. */
  end?: RecordEnd
}

export interface RecordEnd {
  error?: EventError
  metrics?: RecordMetrics
  attempts: number
}

/** The job's counters: what the status and progress lines show. */
export interface JobCounts {
  total?: number
  /** Records that have had a `record-start`. */
  started: number
  ok: number
  failed: number
  skipped: number
  /** Attempts after the first, over all records. */
  retries: number
  chunks: number
  /** Staged runs: each stage's records, in the order the stages first showed up. */
  stages?: Map<string, StageCounts>
}

/** One stage's records in a staged run (events with `stage`). */
export interface StageCounts {
  inFlight: number
  ok: number
  failed: number
}

export interface RecordFailure {
  recordId: string
  error: EventError
}

export interface JobViewOptions {
  /**
   * Keep ended records (with their final text) until {@link JobView.release}: the streaming layout
   * prints each one whole before it lets go. Default false: a record is dropped when it ends.
   */
  keepEnded?: boolean
  /** Most characters of a record's text (and of its thinking) kept: the newest. Default: all. */
  textLimit?: number
}

/**
 * What the terminal display needs of a job, folded from its events, and nothing more: counters,
 * the records in flight (and, for the streaming layout, the ended ones not printed yet), and the
 * failures not shown yet. Its size depends on the concurrency, never on how many records the job
 * has run: a finished record is forgotten (its result is in the output file).
 */
export class JobView {
  jobId: string | undefined
  model = ''
  readonly counts: JobCounts = { started: 0, ok: 0, failed: 0, skipped: 0, retries: 0, chunks: 0 }
  readonly #keepEnded: boolean
  readonly #textLimit: number
  /** By start order. */
  readonly #records = new Map<string, RecordView>()
  #failures: RecordFailure[] = []

  constructor(options: JobViewOptions = {}) {
    this.#keepEnded = options.keepEnded ?? false
    this.#textLimit = options.textLimit ?? Number.POSITIVE_INFINITY
  }

  /** The records held, in start order: in flight, then (with `keepEnded`) ended but not released. */
  records(): IterableIterator<RecordView> {
    return this.#records.values()
  }

  /** How many records the view holds (in flight, plus ended ones not released yet). */
  get retained(): number {
    return this.#records.size
  }

  /** The failures since the last call, in the order they happened. */
  takeFailures(): RecordFailure[] {
    const failures = this.#failures
    this.#failures = []
    return failures
  }

  /** Forgets an ended record (the streaming layout has printed it). */
  release(recordId: string): void {
    if (this.#records.get(recordId)?.end) this.#records.delete(recordId)
  }

  apply(event: SpoutEvent): void {
    this.jobId ??= event.jobId
    switch (event.type) {
      case 'job-start':
        this.model = event.model
        if (event.total !== undefined) this.counts.total = event.total
        return
      case 'record-start': {
        const known = this.#records.get(event.recordId)
        if (known && !known.end) {
          if (event.attempt > known.attempt) this.counts.retries += event.attempt - known.attempt
          Object.assign(known, {
            attempt: event.attempt,
            model: event.model,
            chunks: 0,
            text: '',
            thinking: '',
          })
          return
        }
        this.counts.started += 1
        if (event.stage !== undefined) this.#stage(event.stage).inFlight += 1
        if (event.attempt > 1) this.counts.retries += event.attempt - 1
        this.#records.set(event.recordId, {
          recordId: event.recordId,
          model: event.model,
          attempt: event.attempt,
          chunks: 0,
          text: '',
          thinking: '',
        })
        return
      }
      case 'chunk': {
        const record = this.#records.get(event.recordId)
        if (!record || record.end || event.seq < record.chunks) return
        record.chunks = event.seq + 1
        record.text = this.#bounded(record.text + event.text)
        if (event.thinking) record.thinking = this.#bounded(record.thinking + event.thinking)
        this.counts.chunks += 1
        return
      }
      case 'record-end':
        this.#recordEnd(event)
        return
      case 'job-end':
        return
    }
  }

  #recordEnd(event: RecordEndEvent): void {
    if (event.skipped) {
      this.counts.skipped += 1
      this.#records.delete(event.recordId)
      return
    }
    if (event.stage !== undefined) {
      const stage = this.#stage(event.stage)
      if (this.#records.has(event.recordId)) stage.inFlight = Math.max(0, stage.inFlight - 1)
      if (event.error) stage.failed += 1
      else stage.ok += 1
    }
    if (event.error) {
      this.counts.failed += 1
      this.#failures.push({ recordId: event.recordId, error: event.error })
    } else {
      this.counts.ok += 1
    }
    if (!this.#keepEnded) {
      this.#records.delete(event.recordId)
      return
    }
    const record = this.#records.get(event.recordId) ?? {
      recordId: event.recordId,
      model: this.model,
      attempt: event.attempts,
      chunks: 0,
      text: '',
      thinking: '',
    }
    record.text = this.#bounded(event.response)
    record.thinking = this.#bounded(event.thinking ?? '')
    record.end = {
      attempts: event.attempts,
      ...(event.error ? { error: event.error } : {}),
      ...(event.metrics ? { metrics: event.metrics } : {}),
    }
    this.#records.set(event.recordId, record)
  }

  #stage(name: string): StageCounts {
    this.counts.stages ??= new Map()
    let stage = this.counts.stages.get(name)
    if (!stage) {
      stage = { inFlight: 0, ok: 0, failed: 0 }
      this.counts.stages.set(name, stage)
    }
    return stage
  }

  /** Text cut to its newest `textLimit` characters, once it is twice as long (so cutting stays rare). */
  #bounded(text: string): string {
    return text.length > 2 * this.#textLimit ? text.slice(-this.#textLimit) : text
  }
}
