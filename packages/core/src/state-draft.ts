// One batch of events folded into a state, copy-on-write: each job, record list and record the batch
// touches is copied once, and everything untouched keeps its identity.
import type {
  ChunkEvent,
  JobEndEvent,
  JobStartEvent,
  RecordEndEvent,
  RecordQueuedEvent,
  RecordStartEvent,
  SpoutEvent,
} from './events.ts'
import {
  getRecord,
  type JobState,
  jobOf,
  jobTable,
  type RecordState,
  type RecordStatus,
  type SpoutState,
  type StageCounts,
} from './job-state.ts'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type JobDraft = Mutable<Omit<JobState, 'records'>> & { records: RecordState[] }

export class StateDraft {
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
        jobStart(job, event)
        return
      case 'record-queued':
        this.#recordQueued(job, event)
        return
      case 'record-start':
        this.#recordStart(job, event)
        return
      case 'chunk':
        this.#chunk(job, event)
        return
      case 'record-end':
        this.#recordEnd(job, event)
        return
      case 'hosts':
        job.hosts = event.hosts
        return
      case 'job-end':
        this.#jobEnd(job, event)
        return
    }
  }

  #recordQueued(job: JobDraft, event: RecordQueuedEvent): void {
    // Only a record not seen yet waits: a replayed or late record-queued changes nothing.
    if (getRecord(job, event.recordId)) return
    this.#putRecord(job, queuedRecord(event.recordId, job.model))
    job.queued = (job.queued ?? 0) + 1
  }

  #recordStart(job: JobDraft, event: RecordStartEvent): void {
    const existing = getRecord(job, event.recordId)
    if (existing) leaveStatus(job, existing.status)
    countStage(job, event.stage, existing?.status, 'streaming')
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
  }

  #chunk(job: JobDraft, event: ChunkEvent): void {
    const record = getRecord(job, event.recordId) ?? this.#implicitRecord(job, event.recordId, event.stage)
    if (event.seq < record.chunks || record.status !== 'streaming') return
    const draft = this.#writable(job, record)
    draft.text += event.text
    if (event.thinking) draft.thinking += event.thinking
    draft.chunks = event.seq + 1
    job.chunkCount += 1
  }

  #recordEnd(job: JobDraft, event: RecordEndEvent): void {
    const record = getRecord(job, event.recordId) ?? this.#implicitRecord(job, event.recordId, event.stage)
    const from = record.status
    const endedBefore = stageEnd(record)
    leaveStatus(job, from)
    // A resent end replaces the first one whole: its tokens and its outcome's fields go.
    if (from !== 'streaming' && from !== 'queued') job.tokens -= record.metrics?.eval_count ?? 0
    const draft = this.#writable(job, record)
    draft.status = event.skipped ? 'skipped' : event.error ? 'failed' : 'done'
    countStage(job, event.stage, from, draft.status)
    draft.text = event.response
    draft.thinking = event.thinking ?? ''
    draft.attempts = event.attempts
    setOptional(draft, 'doneReason', event.doneReason)
    setOptional(draft, 'metrics', event.metrics)
    setOptional(draft, 'error', event.error)
    setOptional(draft, 'filtered', event.filtered)
    setOptional(draft, 'children', event.children)
    countStageEnd(job, event.stage, endedBefore, stageEnd(draft))
    if (draft.status === 'done') job.ok += 1
    else if (draft.status === 'failed') job.failed += 1
    else job.skipped += 1
    job.tokens += event.metrics?.eval_count ?? 0
  }

  #jobEnd(job: JobDraft, event: JobEndEvent): void {
    job.summary = event.summary
    if (event.summary.hosts !== undefined) job.hosts = event.summary.hosts
    job.endedAt = event.endedAt ?? new Date().toISOString()
    job.status = event.summary.error ? 'failed' : event.summary.interrupted ? 'interrupted' : 'done'
    if (job.queued) this.#dropQueued(job)
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
      job = newJob(id)
      this.#jobOrder ??= [...this.#base.jobOrder]
      this.#jobOrder.push(id)
    }
    this.#jobs[id] = job as JobState
    this.#draftJobs.set(id, job)
    return job
  }

  #implicitRecord(job: JobDraft, recordId: string, stage: string | undefined): RecordState {
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
    countStage(job, stage, undefined, 'streaming')
    return record
  }

  #putRecord(job: JobDraft, record: RecordState): void {
    const records = this.#ownRecords(job)
    const existing = getRecord(job, record.recordId)
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

function jobStart(job: JobDraft, event: JobStartEvent): void {
  job.name = event.name
  job.model = event.model
  job.host = event.host
  job.total = event.total
  if (event.stages !== undefined) job.stages = event.stages
  job.startedAt = event.startedAt
}

/** A job first heard of: named by its id until its job-start arrives. */
function newJob(jobId: string): JobDraft {
  return {
    jobId,
    name: jobId,
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
}

function queuedRecord(recordId: string, model: string): RecordState {
  return { recordId, status: 'queued', attempt: 0, model, text: '', thinking: '', chunks: 0 }
}

/** Sets an optional field, or removes it when `value` is undefined. */
function setOptional<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete target[key]
  else target[key] = value
}

function leaveStatus(job: JobDraft, status: RecordStatus): void {
  if (status === 'streaming') job.streaming -= 1
  else if (status === 'queued') job.queued = (job.queued ?? 1) - 1
  else if (status === 'done') job.ok -= 1
  else if (status === 'failed') job.failed -= 1
  else job.skipped -= 1
}

const stageFields = { streaming: 'streaming', done: 'ok', failed: 'failed' } as const

type StageEnd = Required<Pick<StageCounts, 'filtered' | 'skipped' | 'passedOn'>>

/** What an ended record adds to its stage's counts beyond its status (nothing while it runs). */
function stageEnd(record: RecordState): StageEnd {
  const passedOn = record.children ?? 1
  if (record.status === 'skipped') {
    // A stored result goes on (its children, else itself); a record already in the output does not.
    const goesOn = record.filtered === undefined && record.error === undefined
    return { filtered: 0, skipped: 1, passedOn: goesOn ? passedOn : 0 }
  }
  if (record.status !== 'done') return { filtered: 0, skipped: 0, passedOn: 0 }
  return record.filtered === undefined
    ? { filtered: 0, skipped: 0, passedOn }
    : { filtered: 1, skipped: 0, passedOn: 0 }
}

/** Staged runs: a record-end's share of its stage's filtered, skipped and passed-on counts (a resent end replaces its first). */
function countStageEnd(job: JobDraft, stage: string | undefined, before: StageEnd, after: StageEnd): void {
  if (stage === undefined) return
  if (
    before.filtered === after.filtered &&
    before.skipped === after.skipped &&
    before.passedOn === after.passedOn
  )
    return
  changeStage(job, stage, (counts) => {
    counts.filtered += after.filtered - before.filtered
    counts.skipped += after.skipped - before.skipped
    counts.passedOn += after.passedOn - before.passedOn
  })
}

const emptyStage = { streaming: 0, ok: 0, failed: 0, filtered: 0, skipped: 0, passedOn: 0 }

/** Changes one stage's counts in a copy of the job's table: the table is never changed, states share it. */
function changeStage(
  job: JobDraft,
  stage: string,
  change: (counts: Mutable<Required<StageCounts>>) => void,
): void {
  // No prototype: stage names come from producers, and a stage named `constructor` is a stage like any other.
  const table: Record<string, StageCounts> = Object.assign(Object.create(null), job.stageCounts)
  const counts = { ...emptyStage, ...(Object.hasOwn(table, stage) ? table[stage] : undefined) }
  change(counts)
  table[stage] = counts
  job.stageCounts = table
}

/**
 * Staged runs: a record of `stage` leaves status `from` for `to` in the stage's counts (queued and
 * skipped records are not counted).
 */
function countStage(
  job: JobDraft,
  stage: string | undefined,
  from: RecordStatus | undefined,
  to: RecordStatus,
): void {
  if (stage === undefined) return
  const leave = from === undefined ? undefined : stageFields[from as keyof typeof stageFields]
  const enter = stageFields[to as keyof typeof stageFields]
  if (leave === enter) return
  changeStage(job, stage, (counts) => {
    if (leave !== undefined) counts[leave] -= 1
    if (enter !== undefined) counts[enter] += 1
  })
}
