// One `collect` call of a queue batch: the records go in as BullMQ jobs (at most a window of them
// out at a time), the workers' lines and events come back on the batch's streams, and a sweep gives
// failed jobs their line and queues again the records Redis lost.
import type { InputRecord, RecordResult, SpoutEvent } from '@spout/core'
import { Job, type Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import {
  field,
  followStreams,
  readBacklog,
  type StreamHandlers,
  type StreamReading,
} from './batch-streams.ts'
import { RedisError } from './errors.ts'
import { failedLine } from './failed-line.ts'
import {
  type BatchSpec,
  type batchKeys,
  type RecordJobData,
  recordJobId,
  runsKey,
  type StopRecord,
} from './queue-keys.ts'
import { settlesNow } from './settles-now.ts'

/** A record to queue: its id (the output's key) and the record. */
export interface QueueEntry {
  id: string
  record: InputRecord
}

/** What the collector hands out: live events from the workers, and each record's line once. */
export type CollectedItem =
  | { type: 'event'; event: SpoutEvent }
  | { type: 'result'; line: RecordResult }
  | { type: 'duplicate'; id: string }
  /** A record put on the queue (it waits there for a worker). */
  | { type: 'queued'; id: string }

/** What a {@link Collection} works with: the batch's settings and its Redis connections. */
export interface CollectionParts {
  spec: BatchSpec
  keys: ReturnType<typeof batchKeys>
  queue: Queue<RecordJobData, string>
  writer: Redis
  reader: Redis
  /** Records queued and not yet collected, at most. */
  window: number
  /** How often queued records are checked, in ms. */
  sweepInterval: number
  /** The Redis URL without its password, for messages. */
  url: string
  /** Reports a failure talking to Redis (the collection goes on). */
  report: (message: string, cause: unknown) => void
}

/** A job as `addBulk` takes it. */
interface QueuedJob {
  name: string
  data: RecordJobData
  opts: { jobId: string; removeOnComplete: { age: number; count: number }; removeOnFail: boolean }
}

/**
 * Completed jobs stay a while (an hour, the last 1,000 of a queue): adding a record again whose job
 * has just completed (its line on the stream, not read yet) is then a no-op, not a second generation.
 */
const keepCompleted = { age: 3600, count: 1000 }

interface Pending {
  record: InputRecord
  jobId: string
  /** When a check first found no job for it (gone with Redis's data, or completed and removed). */
  missingSince?: number
}

/** One `collect` call: the enqueuer, the reader of the streams and the sweeper, feeding one list. */
export class Collection {
  readonly #parts: CollectionParts
  readonly #entries: AsyncIterable<QueueEntry> | Iterable<QueueEntry>
  readonly #signal: AbortSignal | undefined
  readonly #pending = new Map<string, Pending>()
  /**
   * Lines back for records not asked for yet: a resumed run reads the lines its killed predecessor's
   * records left on the stream. Handed out when the record comes (not generated again); their entries
   * stay on the stream until then. Copies of records already written wait here too, unused.
   */
  readonly #early = new Map<string, { entryId: string; line: RecordResult }>()
  readonly #ready: CollectedItem[] = []
  readonly #resultEntries: string[] = []
  #inputDone = false
  #stopped = false
  #failure: { error: unknown } | undefined
  #wake: (() => void) | undefined
  #space: (() => void) | undefined
  readonly #sleepers: (() => void)[] = []

  constructor(
    parts: CollectionParts,
    entries: AsyncIterable<QueueEntry> | Iterable<QueueEntry>,
    signal?: AbortSignal,
  ) {
    this.#parts = parts
    this.#entries = entries
    this.#signal = signal
  }

  async *items(): AsyncGenerator<CollectedItem> {
    const onAbort = () => this.#stop()
    this.#signal?.addEventListener('abort', onAbort, { once: true })
    if (this.#signal?.aborted) this.#stop()
    const { reader, keys, report } = this.#parts
    const reading: StreamReading = {
      reader,
      keys,
      report,
      stopped: () => this.#stopped,
      pause: (ms) => this.#pause(ms),
    }
    const handlers: StreamHandlers = {
      result: (entryId, fields) => this.#takeResult(entryId, fields),
      events: (fields) => this.#takeEvents(fields),
    }
    // The lines already back (a resumed run's) are read before any record is queued, so none is queued again.
    const backlog = readBacklog(reading, handlers)
    const tasks = [
      backlog.then(() => this.#enqueue()).catch((error: unknown) => this.#fail(error)),
      backlog.then((last) => followStreams(reading, handlers, last)),
      this.#sweep(),
    ]
    try {
      for (;;) {
        const item = this.#ready.shift()
        if (item) {
          yield item
          continue
        }
        // The lines handed out are written: their entries can go.
        this.#dropResults()
        if (this.#failure) throw this.#failure.error
        if (this.#stopped || (this.#inputDone && this.#pending.size === 0)) break
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
      }
    } finally {
      this.#signal?.removeEventListener('abort', onAbort)
      this.#stop()
      await Promise.all(tasks)
      this.#dropResults()
    }
  }

  /**
   * A viewer's stop of record `id`: a job still waiting is taken off the queue and the record ends
   * failed with `SPOUT_ABORTED` here; the worker running one is asked to abort it (its failed line
   * comes back as any line). False when no queued record has this id.
   */
  abort(id: string, reason: string): boolean {
    const pending = this.#pending.get(id)
    if (!pending) return false
    this.#abort(id, pending, reason).catch((error: unknown) =>
      this.#parts.report(`cannot stop record ${id}`, error),
    )
    return true
  }

  async #abort(id: string, pending: Pending, reason: string): Promise<void> {
    const { queue, writer, keys, spec } = this.#parts
    const job = await Job.fromId<RecordJobData, string>(queue, pending.jobId)
    const state = await job?.getState()
    // Ended already: its line (or the sweep's) is on its way.
    if (state === 'completed' || state === 'failed') return
    // A job a worker holds is locked: `remove` refuses it.
    const removed =
      job !== undefined &&
      (await job.remove().then(
        () => true,
        () => false,
      ))
    if (!removed) {
      const stop: StopRecord = { runId: spec.runId, id, reason }
      await writer.publish(keys.control, JSON.stringify(stop))
      return
    }
    this.#endHere(id, pending.record, 'SPOUT_ABORTED', `aborted: ${reason}`)
  }

  /** Ends a queued record with a failed line of the collector's own; false when it had ended already. */
  #endHere(
    id: string,
    record: InputRecord,
    code: 'SPOUT_QUEUE_JOB_FAILED' | 'SPOUT_ABORTED',
    reason: string,
  ): boolean {
    if (!this.#pending.delete(id)) return false
    this.#push({ type: 'result', line: failedLine(this.#parts.spec, id, record, code, reason) })
    this.#space?.()
    return true
  }

  #push(item: CollectedItem): void {
    this.#ready.push(item)
    this.#wakeUp()
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #stop(): void {
    this.#stopped = true
    this.#wakeUp()
    this.#space?.()
    for (const wake of this.#sleepers.splice(0)) wake()
  }

  /** Waits `ms`, or less when the collection stops. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#sleepers.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  #fail(error: unknown): void {
    this.#failure ??= { error }
    this.#stop()
  }

  #dropResults(): void {
    if (this.#resultEntries.length === 0) return
    const ids = this.#resultEntries.splice(0)
    this.#parts.writer.xdel(this.#parts.keys.results, ...ids).catch(() => {})
  }

  #job(id: string, record: InputRecord, jobId: string): QueuedJob {
    const data: RecordJobData = { runId: this.#parts.spec.runId, id, record }
    return { name: 'record', data, opts: { jobId, removeOnComplete: keepCompleted, removeOnFail: false } }
  }

  /**
   * Queues the entries in bulk: those at hand together, and what is gathered goes out before the
   * input is waited on (a stage's records come one by one: none waits for a window to fill).
   */
  async #enqueue(): Promise<void> {
    const { queue, window } = this.#parts
    let batch: QueuedJob[] = []
    const flush = async () => {
      if (batch.length === 0) return
      const jobs = batch
      batch = []
      await queue.addBulk(jobs)
    }
    const source = this.#entries
    const entries =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()
    for (;;) {
      const next = Promise.resolve(entries.next())
      if (batch.length > 0 && !(await settlesNow(next))) await flush()
      const step = await next
      if (step.done) break
      if (this.#stopped) {
        await entries.return?.()
        break
      }
      const entry = step.value
      if (this.#pending.has(entry.id)) {
        this.#push({ type: 'duplicate', id: entry.id })
        continue
      }
      const early = this.#early.get(entry.id)
      if (early) {
        this.#early.delete(entry.id)
        this.#resultEntries.push(early.entryId)
        this.#push({ type: 'result', line: early.line })
        continue
      }
      const jobId = recordJobId(this.#parts.spec.runId, entry.id)
      this.#pending.set(entry.id, { record: entry.record, jobId })
      batch.push(this.#job(entry.id, entry.record, jobId))
      this.#push({ type: 'queued', id: entry.id })
      if (batch.length >= 100) await flush()
      while (this.#pending.size >= window && !this.#stopped) {
        await flush()
        await new Promise<void>((resolve) => {
          this.#space = resolve
        })
      }
    }
    await flush()
    this.#inputDone = true
    this.#wakeUp()
  }

  #takeResult(entryId: string, fields: string[]): void {
    const id = field(fields, 'id')
    const text = field(fields, 'line')
    let line: RecordResult | undefined
    try {
      if (id !== undefined && text !== undefined) line = JSON.parse(text) as RecordResult
    } catch {} // not written by a worker; the record is checked again by the sweep
    if (id === undefined || line === undefined || (!this.#pending.has(id) && this.#early.has(id))) {
      this.#resultEntries.push(entryId)
      return
    }
    if (!this.#pending.has(id)) {
      this.#early.set(id, { entryId, line })
      return
    }
    this.#resultEntries.push(entryId)
    this.#pending.delete(id)
    this.#space?.()
    this.#push({ type: 'result', line })
  }

  #takeEvents(fields: string[]): void {
    const frame = field(fields, 'f')
    if (frame === undefined) return
    let events: SpoutEvent[]
    try {
      events = JSON.parse(frame) as SpoutEvent[]
    } catch {
      return
    }
    for (const event of events) {
      // Events of a record already collected (a copy still running after its lock was lost) are not shown.
      if ('recordId' in event && this.#pending.has(event.recordId)) this.#push({ type: 'event', event })
    }
  }

  /** Every `sweepInterval`: failed jobs get their line, lost ones are queued again. */
  async #sweep(): Promise<void> {
    const { sweepInterval, report } = this.#parts
    while (!this.#stopped) {
      await this.#pause(sweepInterval)
      if (this.#stopped) return
      try {
        await this.#check()
      } catch (error) {
        if (!this.#stopped) report('cannot check the queued records', error)
      }
    }
  }

  async #check(): Promise<void> {
    const { writer, keys, queue, spec, sweepInterval } = this.#parts
    const runs = runsKey(queue.name)
    // Redis may have lost them (restarted without its data): the workers need the spec.
    await writer.set(keys.spec, JSON.stringify(spec))
    const current = await writer.hget(runs, spec.name)
    if (current === null) await writer.hset(runs, spec.name, spec.runId)
    else if (current !== spec.runId) {
      this.#fail(
        new RedisError(
          'SPOUT_QUEUE_REPLACED',
          this.#parts.url,
          `batch "${spec.name}" was replaced by a newer run of the same name (${current}): this one stops`,
        ),
      )
      return
    }
    const now = Date.now()
    for (const [id, pending] of [...this.#pending]) {
      if (this.#stopped) return
      const state = await queue.getJobState(pending.jobId)
      if (state === 'failed') {
        const job = await Job.fromId<RecordJobData, string>(queue, pending.jobId)
        const reason = job?.failedReason ?? 'failed in the queue'
        if (!this.#endHere(id, pending.record, 'SPOUT_QUEUE_JOB_FAILED', reason)) continue
        await job?.remove().catch(() => {})
      } else if (state === 'unknown') {
        // Completed lines arrive on the stream within a read; a job still missing a sweep later is lost.
        if (pending.missingSince === undefined) pending.missingSince = now
        else if (now - pending.missingSince >= sweepInterval && this.#pending.has(id)) {
          pending.missingSince = undefined
          await queue.addBulk([this.#job(id, pending.record, pending.jobId)])
        }
      } else pending.missingSince = undefined
    }
  }
}
