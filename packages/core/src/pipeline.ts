import { randomBytes } from 'node:crypto'
import { ConcurrencyLimit } from './concurrency-limit.ts'
import { PipelineError } from './errors.ts'
import { jobStartEvent, recordQueuedEvent, toEventError } from './event-builders.ts'
import type { EventError, JobSummary } from './events.ts'
import { FormatChecker } from './format-check.ts'
import { HostReports } from './host-reports.ts'
import {
  type AttemptPolicy,
  attemptPolicy,
  nonNegativeInteger,
  type PipelineOptions,
  positiveInteger,
} from './pipeline-options.ts'
import type { InputRecord, JobControl, PluginJob, PluginLogger, RecordResult } from './plugin.ts'
import { PluginDriver } from './plugin-driver.ts'
import { ReadAhead, type ReadEntry } from './read-ahead.ts'
import { abortedRecord, RecordAborts } from './record-aborts.ts'
import { type AttemptContext, attemptRecord } from './record-attempts.ts'
import { buildRecordRequest, recordId } from './record-request.ts'
import { blankResult, describeRequest, orderedResult } from './record-result.ts'

// The scheduler of a batch: reads records as slots free up, runs each through its attempts, and
// keeps the job's summary. Requests are built in `record-request.ts`, tried in
// `record-attempts.ts`, streamed in `record-stream.ts`; events are built in `event-builders.ts`.

// The pipeline's options and its record ids, where its callers have always found them.
export type { PipelineClient, PipelineOptions, RequestDefaults } from './pipeline-options.ts'
export { recordId }

const silentLogger: PluginLogger = { info() {}, warn() {} }

/**
 * Runs a batch: every record becomes a request through the prompt builders, every token streams
 * through the chunk sinks as it arrives, every record read ends in exactly one `recordEnd`.
 * Resolves to the job summary; never rejects for a record's or a plugin's failure (see
 * `summary.error`).
 */
export async function runPipeline(options: PipelineOptions): Promise<JobSummary> {
  return new PipelineRun(options).run()
}

class PipelineRun {
  readonly #options: PipelineOptions
  readonly #started = performance.now()
  readonly #controller = new AbortController()
  readonly #summary: JobSummary = { ok: 0, failed: 0, skipped: 0, tokens: 0, duration: 0 }
  readonly #job: PluginJob
  /** Back-pressure of a single host; a client with `capacity` handles its own. */
  readonly #limit: ConcurrencyLimit | undefined
  readonly #concurrency: number
  readonly #idField: string
  readonly #policy: AttemptPolicy
  readonly #formats = new FormatChecker()
  #driver: PluginDriver | undefined
  /** What the attempts of every record share, once the plugins are resolved. */
  #attemptContext: AttemptContext | undefined
  /** Why the job stopped early: an abort (`SPOUT_ABORTED`) or the job's own failure. */
  #stop: EventError | undefined
  #jobFailed = false
  #inFlight = 0
  #slotFreed: (() => void) | undefined
  readonly #readAhead: number
  #reader: ReadAhead | undefined
  /** A record's processing rejected (a bug): the job fails with it. */
  #bug: { error: unknown } | undefined
  readonly #aborts = new RecordAborts()
  /** The hand plugins get on the job (`context.control`). */
  readonly #control: JobControl = {
    abortRecord: (recordId, reason) => this.#abortRecord(recordId, reason),
    stopJob: (reason) => this.#halt({ code: 'SPOUT_ABORTED', message: `job stopped: ${reason}` }),
  }

  constructor(options: PipelineOptions) {
    this.#options = options
    this.#concurrency = positiveInteger(options.concurrency ?? 1, 'concurrency')
    this.#policy = attemptPolicy(options)
    this.#idField = options.idField ?? 'id'
    this.#readAhead = nonNegativeInteger(options.readAhead ?? 0, 'readAhead')
    this.#limit = options.client.capacity ? undefined : new ConcurrencyLimit(this.#concurrency)
    this.#job = {
      jobId: options.jobId ?? `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      name: options.name ?? 'spout',
      model: options.model,
      host: options.client.host,
    }
  }

  async run(): Promise<JobSummary> {
    const signal = this.#options.signal
    // A client with a capacity (a pool) may grow or shrink it: read more records when it grows.
    const unsubscribe = this.#options.client.capacity?.subscribe(() => this.#wakeReader())
    const onAbort = () =>
      this.#halt({ code: 'SPOUT_ABORTED', message: `job interrupted: ${reasonText(signal?.reason)}` })
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    try {
      try {
        this.#prepare()
      } catch (error) {
        this.#failJob(error)
        return this.#finish()
      }
      const total =
        this.#options.total ?? (Array.isArray(this.#options.input) ? this.#options.input.length : undefined)
      const jobStart = jobStartEvent({ ...this.#job, startedAt: new Date().toISOString(), total })
      try {
        await this.#driver!.hookParallel('jobStart', jobStart)
      } catch (error) {
        this.#failJob(error)
      }
      const hosts = this.#hostReports()
      hosts?.start(this.#options.hostReportPeriod)
      try {
        if (!this.#stop) await this.#readInput()
      } finally {
        hosts?.stop()
      }
      const summary = this.#finish()
      try {
        await this.#driver!.hookParallel('jobEnd', summary)
      } catch (error) {
        summary.error ??= toEventError(error)
      }
      return summary
    } finally {
      signal?.removeEventListener('abort', onAbort)
      unsubscribe?.()
      this.#limit?.close(this.#stop ?? new PipelineError('SPOUT_ABORTED', 'job ended'))
    }
  }

  /** Resolves the plugins and the format, and what every record's attempts share. Throws what they throw. */
  #prepare(): void {
    const logger = this.#options.logger ?? silentLogger
    this.#driver = new PluginDriver(this.#options.plugins, (plugin) => ({
      signal: this.#controller.signal,
      job: this.#job,
      control: this.#control,
      logger: {
        info: (message) => logger.info(`[plugin ${plugin.name}] ${message}`),
        warn: (message) => logger.warn(`[plugin ${plugin.name}] ${message}`),
      },
    }))
    this.#formats.prepare(this.#options.request?.format)
    this.#attemptContext = {
      client: this.#options.client,
      driver: this.#driver,
      jobId: this.#job.jobId,
      signal: this.#controller.signal,
      policy: this.#policy,
      limit: this.#limit,
      formats: this.#formats,
      stopped: () => this.#stop !== undefined,
      failJob: (error) => this.#failJob(error),
    }
  }

  /** A pool's hosts as `hosts` events, when a plugin listens and the client reports them. */
  #hostReports(): HostReports | undefined {
    const capacity = this.#options.client.capacity
    if (!capacity?.report || !this.#driver!.has('hosts') || this.#stop) return undefined
    return new HostReports(
      () => capacity.report!(),
      this.#job.jobId,
      async (event) => {
        try {
          await this.#driver!.hookParallel('hosts', event)
        } catch (error) {
          this.#failJob(error)
        }
      },
    )
  }

  #finish(): JobSummary {
    const summary = this.#summary
    summary.duration = Math.round(performance.now() - this.#started)
    if (this.#stop && !this.#jobFailed) summary.interrupted = true
    const hosts = this.#options.client.capacity?.report?.()
    if (hosts) summary.hosts = hosts
    if (this.#jobFailed && this.#stop) summary.error = this.#stop
    return summary
  }

  /** Stops taking records and cancels requests in flight. The first reason wins. */
  #halt(reason: EventError): void {
    if (this.#stop) return
    this.#stop = reason
    this.#controller.abort(reason)
    this.#aborts.abortAll(reason)
    this.#reader?.stop()
    this.#limit?.close(reason)
  }

  /** `context.control.abortRecord`: a record in flight is cancelled, a queued one ends unstarted. */
  #abortRecord(id: string, reason: string): boolean {
    if (this.#aborts.abort(id, reason)) return true
    const entry = this.#reader?.remove(id)
    if (!entry) return false
    this.#launch(entry, abortedRecord(id, reason))
    return true
  }

  #failJob(error: unknown): void {
    if (this.#stop) return
    this.#jobFailed = true
    this.#halt(toEventError(error))
  }

  async #readInput(): Promise<void> {
    // Records in flight are counted (#inFlight), not kept in a collection: nothing long-lived points
    // at them. Those read ahead wait in the reader's bounded window.
    const reader = new ReadAhead(this.#options.input, {
      window: this.#readAhead,
      idOf: (record, position) => recordId(record, this.#idField, position),
      queues: (entry) => !this.#options.skip?.has(entry.id),
      onQueued: (entry) => this.#recordQueued(entry),
    })
    this.#reader = reader
    if (this.#stop) reader.stop()
    reader.start()
    try {
      while (!this.#stop) {
        while (this.#inFlight >= this.#slots()) await this.#slotFreedOnce()
        if (this.#stop) break
        let entry: ReadEntry | undefined
        try {
          entry = await reader.next()
        } catch (error) {
          this.#failJob(error)
          break
        }
        if (!entry) break
        if (this.#options.skip?.has(entry.id)) await this.#skipRecord(entry.id, entry.record)
        else this.#launch(entry)
      }
    } finally {
      // Every record read ends: those still waiting end as the job stopped (SPOUT_ABORTED).
      for (const entry of await reader.drain()) {
        if (this.#options.skip?.has(entry.id)) await this.#skipRecord(entry.id, entry.record)
        else this.#launch(entry)
      }
      while (this.#inFlight > 0) await this.#slotFreedOnce()
      await reader.close()
    }
    const failure = this.#bug
    if (failure) throw failure.error
  }

  /** Starts a record (or ends it at once with `aborted`); it counts as in flight until it ended. */
  #launch(entry: ReadEntry, aborted?: Error): void {
    this.#inFlight += 1
    const settled = () => {
      this.#inFlight -= 1
      this.#wakeReader()
    }
    // #processRecord never rejects; should a bug make it, the job fails with that error.
    this.#processRecord(entry.id, entry.record, aborted).then(settled, (error: unknown) => {
      this.#bug ??= { error }
      settled()
    })
  }

  async #recordQueued(entry: ReadEntry): Promise<void> {
    if (!this.#driver!.has('recordQueued')) return
    try {
      await this.#driver!.hookParallel('recordQueued', recordQueuedEvent(this.#job.jobId, entry.id))
    } catch (error) {
      this.#failJob(error)
    }
  }

  /** Records in flight at most now: the client's capacity when it has one, else `concurrency`. */
  #slots(): number {
    const capacity = this.#options.client.capacity
    return capacity ? Math.max(1, capacity.slots) : this.#concurrency
  }

  #wakeReader(): void {
    const wake = this.#slotFreed
    this.#slotFreed = undefined
    wake?.()
  }

  /** Resolves when the next record in flight ends (or the client's capacity changes). */
  #slotFreedOnce(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#slotFreed = resolve
    })
  }

  async #skipRecord(id: string, record: InputRecord): Promise<void> {
    const now = new Date().toISOString()
    const result: RecordResult = { ...this.#blankResult(id, record, now), ended_at: now, skipped: true }
    this.#summary.skipped += 1
    await this.#recordEnd(result)
  }

  #blankResult(id: string, record: InputRecord, startedAt: string): RecordResult {
    return blankResult(id, record, this.#options.model, this.#options.client.kind, startedAt)
  }

  /** One record, start to end. Never rejects: whatever happens ends in `recordEnd`. */
  async #processRecord(id: string, record: InputRecord, aborted?: Error): Promise<void> {
    const result = this.#blankResult(id, record, new Date().toISOString())
    // The record's own signal: aborted by the job's stop, or by `context.control.abortRecord`.
    const signal = this.#aborts.start(id)
    try {
      if (this.#stop) throw this.#stop
      if (aborted) throw aborted
      const request = await buildRecordRequest(id, record, this.#options, this.#driver!)
      describeRequest(result, request, this.#options.modelDigest)
      const stopped = () => this.#stop !== undefined || signal.aborted
      await attemptRecord({ ...this.#attemptContext!, signal, stopped }, request, result)
      this.#summary.ok += 1
      this.#summary.tokens += result.metrics.eval_count ?? 0
    } catch (error) {
      // A record stopped on its own says so, even when the job stops too before it settles.
      const own = signal.aborted && signal.reason !== this.#stop ? signal.reason : undefined
      result.error =
        own !== undefined
          ? toEventError(own)
          : this.#stop && this.#isStopError(error)
            ? this.#stop
            : toEventError(error)
      this.#summary.failed += 1
    }
    this.#aborts.end(id, signal)
    result.ended_at = new Date().toISOString()
    await this.#recordEnd(orderedResult(result))
  }

  /** True for the rejections a stop causes: the abort reason itself, or an `AbortError`. */
  #isStopError(error: unknown): boolean {
    return (
      error === this.#stop ||
      error === this.#controller.signal.reason ||
      (error as Error)?.name === 'AbortError'
    )
  }

  async #recordEnd(result: RecordResult): Promise<void> {
    try {
      await this.#driver!.hookParallel('recordEnd', result)
    } catch (error) {
      // The record may not have reached the output: stop, so that a resume redoes it.
      this.#failJob(error)
    }
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message
  return reason === undefined ? 'aborted' : String(reason)
}
