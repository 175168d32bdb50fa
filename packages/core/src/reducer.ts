import type { EventError, EventMessage, HostReport, JobSummary, RecordMetrics, SpoutEvent } from './events.ts'

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

export type JobStatus = 'running' | 'done' | 'failed' | 'interrupted'

export interface JobState {
  readonly jobId: string
  readonly name: string
  readonly model: string
  readonly host: string
  readonly total?: number
  /** Staged runs: the stages' names, in order (records' ids are `<stage>:<id>`). */
  readonly stages?: readonly string[]
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

export function getRecord(job: JobState, recordId: string): RecordState | undefined {
  return lookup(job, recordId)
}

function lookup(job: Pick<JobState, 'records' | 'recordIndex'>, recordId: string): RecordState | undefined {
  const position = job.recordIndex.get(recordId)
  if (position === undefined) return undefined
  const record = job.records[position]
  return record?.recordId === recordId ? record : undefined
}

/** Folds one event into the state. Pure: the given state is never changed. */
export function applyEvent(state: SpoutState, event: SpoutEvent): SpoutState {
  return applyEvents(state, [event])
}

/**
 * Folds many events at once. Pure, and cheaper than one `applyEvent` per event: each job, record
 * list and record touched by the batch is copied once, and everything untouched keeps its identity
 * (so a UI can skip re-rendering records that did not change).
 *
 * Idempotent for replays: an event whose hub `sequence` is not above the job's `lastSequence`,
 * and a chunk whose `seq` was already applied, change nothing.
 */
export function applyEvents(state: SpoutState, events: Iterable<SpoutEvent>): SpoutState {
  const draft = new StateDraft(state)
  for (const event of events) draft.apply(event)
  return draft.finish()
}

/** Drops a job (the hub uses it to bound memory). */
export function removeJob(state: SpoutState, jobId: string): SpoutState {
  if (!Object.hasOwn(state.jobs, jobId)) return state
  const jobs = jobTable(state.jobs)
  delete jobs[jobId]
  return { jobs, jobOrder: state.jobOrder.filter((id) => id !== jobId) }
}

/** How many finished records {@link pruneRecords} lets a job keep. */
export interface RecordLimits {
  /** Done and skipped records kept: the most recent ones (by first appearance). */
  maxFinished: number
  /**
   * Failed records kept, counted apart from the done ones so that failures outlive a flood of
   * successes. Default: `maxFinished`.
   */
  maxFailed?: number
}

/**
 * Bounds a job's memory: drops its oldest finished records beyond `limits` (running records always
 * stay). The job's counters (`ok`, `failed`, `skipped`, `tokens`, `retries`, `chunkCount`,
 * `lastSequence`) do not change, `prunedRecords` counts what was dropped, and kept records keep
 * their identity. Pure: the given state is never changed.
 *
 * Amortized O(1) per call: nothing happens (and the same state comes back) until the finished
 * records held pass 1.5 × (`maxFinished` + `maxFailed`); then one O(records) pass brings them back
 * under the limits. So a job holds at most that many finished records plus its running ones.
 *
 * An event for a dropped record afterwards treats it as a new record (a replay with a hub
 * `sequence` is still ignored, like any replay). With an infinite limit nothing is ever pruned.
 */
export function pruneRecords(state: SpoutState, jobId: string, limits: RecordLimits): SpoutState {
  const job = jobOf(state, jobId)
  if (!job) return state
  const maxFinished = Math.max(0, limits.maxFinished)
  const maxFailed = Math.max(0, limits.maxFailed ?? limits.maxFinished)
  const limit = maxFinished + maxFailed
  const finishedHeld = job.records.length - job.streaming - (job.queued ?? 0)
  if (!(finishedHeld > limit + Math.max(1, Math.ceil(limit / 2)))) return state
  const kept: RecordState[] = []
  let finishedKept = 0
  let failedKept = 0
  for (let position = job.records.length - 1; position >= 0; position--) {
    const record = job.records[position]!
    if (record.status === 'streaming' || record.status === 'queued') kept.push(record)
    else if (record.status === 'failed') {
      if (failedKept < maxFailed) {
        failedKept += 1
        kept.push(record)
      }
    } else if (finishedKept < maxFinished) {
      finishedKept += 1
      kept.push(record)
    }
  }
  const dropped = job.records.length - kept.length
  if (dropped === 0) return state
  kept.reverse()
  const recordIndex = new Map<string, number>()
  for (let position = 0; position < kept.length; position++)
    recordIndex.set(kept[position]!.recordId, position)
  const pruned: JobState = {
    ...job,
    records: kept,
    recordIndex,
    prunedRecords: (job.prunedRecords ?? 0) + dropped,
  }
  const jobs = jobTable(state.jobs)
  jobs[jobId] = pruned
  return { jobs, jobOrder: state.jobOrder }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type JobDraft = Mutable<Omit<JobState, 'records'>> & { records: RecordState[] }

class StateDraft {
  readonly #base: SpoutState
  #jobs: Record<string, JobState> | undefined
  #jobOrder: string[] | undefined
  readonly #draftJobs = new Map<string, JobDraft>()
  readonly #draftRecords = new Set<RecordState>()

  constructor(base: SpoutState) {
    this.#base = base
  }

  finish(): SpoutState {
    if (!this.#jobs) return this.#base
    return { jobs: this.#jobs, jobOrder: this.#jobOrder ?? this.#base.jobOrder }
  }

  apply(event: SpoutEvent): void {
    const job = this.#job(event)
    if (event.sequence !== undefined) {
      if (event.sequence <= job.lastSequence) return
      job.lastSequence = event.sequence
    }
    switch (event.type) {
      case 'job-start':
        job.name = event.name
        job.model = event.model
        job.host = event.host
        job.total = event.total
        if (event.stages !== undefined) job.stages = event.stages
        job.startedAt = event.startedAt
        return
      case 'record-queued': {
        // Only a record not seen yet waits: a replayed or late record-queued changes nothing.
        if (this.#record(job, event.recordId)) return
        this.#putRecord(job, queuedRecord(event.recordId, job.model))
        job.queued = (job.queued ?? 0) + 1
        return
      }
      case 'record-start': {
        const existing = this.#record(job, event.recordId)
        if (existing) leaveStatus(job, existing.status)
        // Count each attempt after the first once, even when a producer resends a record-start
        // (a resync) or a viewer first hears of a record on its third attempt.
        const known = Math.max(1, existing?.attempt ?? 1)
        if (event.attempt > known) job.retries += event.attempt - known
        const record: Mutable<RecordState> = {
          recordId: event.recordId,
          status: 'streaming',
          attempt: event.attempt,
          model: event.model,
          text: '',
          thinking: '',
          chunks: 0,
        }
        if (event.system !== undefined) record.system = event.system
        if (event.prompt !== undefined) record.prompt = event.prompt
        if (event.messages !== undefined) record.messages = event.messages
        this.#putRecord(job, record)
        job.streaming += 1
        return
      }
      case 'chunk': {
        const record = this.#record(job, event.recordId) ?? this.#implicitRecord(job, event.recordId)
        if (event.seq < record.chunks || record.status !== 'streaming') return
        const draft = this.#writable(job, record)
        draft.text += event.text
        if (event.thinking) draft.thinking += event.thinking
        draft.chunks = event.seq + 1
        job.chunkCount += 1
        return
      }
      case 'record-end': {
        const record = this.#record(job, event.recordId) ?? this.#implicitRecord(job, event.recordId)
        leaveStatus(job, record.status)
        const draft = this.#writable(job, record)
        draft.status = event.skipped ? 'skipped' : event.error ? 'failed' : 'done'
        draft.text = event.response
        draft.thinking = event.thinking ?? ''
        draft.attempts = event.attempts
        if (event.doneReason !== undefined) draft.doneReason = event.doneReason
        if (event.metrics !== undefined) draft.metrics = event.metrics
        if (event.error !== undefined) draft.error = event.error
        if (event.filtered !== undefined) draft.filtered = event.filtered
        if (event.children !== undefined) draft.children = event.children
        if (draft.status === 'done') job.ok += 1
        else if (draft.status === 'failed') job.failed += 1
        else job.skipped += 1
        job.tokens += event.metrics?.eval_count ?? 0
        return
      }
      case 'hosts':
        job.hosts = event.hosts
        return
      case 'job-end':
        job.summary = event.summary
        if (event.summary.hosts !== undefined) job.hosts = event.summary.hosts
        job.endedAt = event.endedAt ?? new Date().toISOString()
        job.status = event.summary.error ? 'failed' : event.summary.interrupted ? 'interrupted' : 'done'
        if (job.queued) this.#dropQueued(job)
        return
    }
  }

  #job(event: SpoutEvent): JobDraft {
    const id = event.jobId
    const drafted = this.#draftJobs.get(id)
    if (drafted) return drafted
    this.#jobs ??= jobTable(this.#base.jobs)
    const existing = jobOf(this.#base, id)
    let job: JobDraft
    if (existing) {
      job = { ...existing, records: existing.records as RecordState[] }
    } else {
      job = {
        jobId: id,
        name: id,
        model: '',
        host: '',
        startedAt: new Date(0).toISOString(),
        status: 'running',
        ok: 0,
        failed: 0,
        skipped: 0,
        streaming: 0,
        retries: 0,
        tokens: 0,
        chunkCount: 0,
        records: [],
        recordIndex: new Map(),
        lastSequence: 0,
      }
      this.#jobOrder ??= [...this.#base.jobOrder]
      this.#jobOrder.push(id)
    }
    this.#jobs[id] = job as JobState
    this.#draftJobs.set(id, job)
    return job
  }

  #record(job: JobDraft, recordId: string): RecordState | undefined {
    return lookup(job, recordId)
  }

  #implicitRecord(job: JobDraft, recordId: string): RecordState {
    const record: RecordState = {
      recordId,
      status: 'streaming',
      attempt: 1,
      model: job.model,
      text: '',
      thinking: '',
      chunks: 0,
    }
    this.#putRecord(job, record)
    job.streaming += 1
    return record
  }

  #putRecord(job: JobDraft, record: RecordState): void {
    const records = this.#ownRecords(job)
    const existing = lookup(job, record.recordId)
    if (existing) {
      records[job.recordIndex.get(record.recordId)!] = record
    } else {
      // The index is shared by every state of this job's line of history. If it holds entries this
      // state does not (another state branched from a common ancestor), give this state its own.
      if (job.recordIndex.size !== records.length) {
        job.recordIndex = new Map(records.map((each, position) => [each.recordId, position]))
      }
      ;(job.recordIndex as Map<string, number>).set(record.recordId, records.length)
      records.push(record)
    }
    this.#draftRecords.add(record)
  }

  #writable(job: JobDraft, record: RecordState): Mutable<RecordState> {
    if (this.#draftRecords.has(record)) return record as Mutable<RecordState>
    const copy = { ...record }
    this.#putRecord(job, copy)
    return copy
  }

  /** Queued records that never started are not part of an ended job (a resume runs them). */
  #dropQueued(job: JobDraft): void {
    const records = job.records.filter((record) => record.status !== 'queued')
    job.records = records
    recordListCopied.add(job)
    job.recordIndex = new Map(records.map((record, position) => [record.recordId, position]))
    job.queued = 0
  }

  #ownRecords(job: JobDraft): RecordState[] {
    if (!recordListCopied.has(job)) {
      job.records = job.records.slice()
      recordListCopied.add(job)
    }
    return job.records
  }
}

const recordListCopied = new WeakSet<object>()

function queuedRecord(recordId: string, model: string): RecordState {
  return { recordId, status: 'queued', attempt: 0, model, text: '', thinking: '', chunks: 0 }
}

function leaveStatus(job: JobDraft, status: RecordStatus): void {
  if (status === 'streaming') job.streaming -= 1
  else if (status === 'queued') job.queued = (job.queued ?? 1) - 1
  else if (status === 'done') job.ok -= 1
  else if (status === 'failed') job.failed -= 1
  else job.skipped -= 1
}
