import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import type { SpoutErrorCode } from './errors.ts'
import { StageError } from './errors.ts'
import { jobStartEvent, toEventError } from './event-builders.ts'
import type { EventError, JobStartEvent, JobSummary } from './events.ts'
import { jsonlSink } from './jsonl-sink.ts'
import { runPipeline } from './pipeline.ts'
import type { PluginJob, PluginLogger, RecordResult, SpoutPlugin } from './plugin.ts'
import { PluginDriver } from './plugin-driver.ts'
import { recordId } from './record-request.ts'
import { blankResult } from './record-result.ts'
import { prepareResume } from './resume.ts'
import { StageChannel } from './stage-channel.ts'
import { StagedControl } from './stage-control.ts'
import {
  checkStages,
  type StageDefinition,
  type StagedLine,
  type StageRecord,
  type StagesOptions,
} from './stage-definition.ts'
import { childId, splitResult } from './stage-split.ts'
import { StageIndex, type StageLine, stageFile } from './stage-state.ts'
import { templatePrompt } from './template-prompt.ts'

export type { StageDefinition, StagedLine, StageRecord, StagesOptions } from './stage-definition.ts'

const silentLogger: PluginLogger = { info() {}, warn() {} }

/**
 * Runs records through stages, pipelined: a record enters stage n+1 as soon as stage n ends it, so
 * every stage's model works at once. A record a stage fails stops there (its final line holds the
 * error and the stage). Resolves to the summary of final records; never rejects for a record.
 */
export async function runStages(options: StagesOptions): Promise<JobSummary> {
  return new StagedRun(options).run()
}

type Outcome = { filtered?: StagedLine['filtered']; error?: StagedLine['error'] }
/** A record's final line now, or the records it becomes for the next stage (`split`: made by a split). */
type Decision = { record: StageRecord; outcome: Outcome } | { records: StageRecord[]; split?: true }

class StagedRun {
  readonly #options: StagesOptions
  readonly #stages: readonly StageDefinition[]
  readonly #started = performance.now()
  readonly #controller = new AbortController()
  readonly #summary: JobSummary = { ok: 0, failed: 0, skipped: 0, tokens: 0, duration: 0, filtered: 0 }
  readonly #job: PluginJob
  readonly #channels: StageChannel<StageRecord>[]
  readonly #control = new StagedControl((reason) =>
    this.#controller.abort({ code: 'SPOUT_ABORTED', message: `job stopped: ${reason}` }),
  )
  #done = new Set<string>()
  /** On resume: each stage file's results by id (read back from the file when their record arrives). */
  #stored: StageIndex[] = []
  #observers!: PluginDriver
  #output!: PluginDriver
  #stageSinks: PluginDriver[] = []
  #error: EventError | undefined

  constructor(options: StagesOptions) {
    this.#options = options
    this.#stages = checkStages(options)
    const first = this.#stages[0]!
    this.#job = {
      jobId: options.jobId ?? `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      name: options.name ?? 'spout',
      model: this.#stages.map((stage) => stage.model).join(' → '),
      host: first.client.host,
    }
    this.#channels = this.#stages.map(
      (stage) => new StageChannel<StageRecord>(this.#controller.signal, queueSize(options, stage)),
    )
  }

  async run(): Promise<JobSummary> {
    const signal = this.#options.signal
    const onAbort = () => this.#controller.abort(signal?.reason)
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await this.#open()
      await this.#observers.hookParallel('jobStart', this.#jobStart())
      await Promise.all([
        this.#output.hookParallel('jobStart', undefined as never),
        ...this.#sinkCalls('jobStart'),
      ])
      await this.#runStages()
    } catch (error) {
      this.#error ??= toEventError(error)
      this.#controller.abort(error)
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
    return this.#end()
  }

  async #open(): Promise<void> {
    const { output, stageDirectory, resume } = this.#options
    const logger = this.#options.logger ?? silentLogger
    const context = (plugin: SpoutPlugin) => ({
      signal: this.#controller.signal,
      job: this.#job,
      control: this.#control,
      logger: {
        info: (message: string) => logger.info(`[plugin ${plugin.name}] ${message}`),
        warn: (message: string) => logger.warn(`[plugin ${plugin.name}] ${message}`),
      },
    })
    this.#observers = new PluginDriver(this.#options.plugins, context)
    if (stageDirectory !== undefined) await mkdir(stageDirectory, { recursive: true })
    if (resume) {
      if (typeof output === 'string') this.#done = (await prepareResume(output)).done
      for (const stage of this.#stages)
        this.#stored.push(await StageIndex.open(stageFile(stageDirectory!, stage.name)))
    }
    const append = resume === true
    this.#output = new PluginDriver(output === undefined ? [] : [jsonlSink(output, { append })], context)
    this.#stageSinks = this.#stages.map(
      (stage) =>
        new PluginDriver(
          stageDirectory === undefined ? [] : [jsonlSink(stageFile(stageDirectory, stage.name), { append })],
          context,
        ),
    )
  }

  #sinkCalls(hook: 'jobStart' | 'jobEnd'): (Promise<void> | undefined)[] {
    return this.#stageSinks.map((sink) => sink.hookParallel(hook, undefined as never))
  }

  #jobStart(): JobStartEvent {
    return jobStartEvent({
      ...this.#job,
      startedAt: new Date().toISOString(),
      total: this.#options.total,
      stages: this.#stages.map((stage) => stage.name),
    })
  }

  /** Every stage's pipeline at once; stage n+1's queue closes when stage n has ended every record. */
  async #runStages(): Promise<void> {
    const runStage = this.#options.runStage ?? runPipeline
    const runs = this.#stages.map((stage, index) =>
      runStage(
        {
          client: stage.client,
          model: stage.model,
          input: index === 0 ? this.#source() : this.#channels[index]!,
          idField: 'id',
          concurrency: stage.concurrency ?? 1,
          ...(this.#options.readAhead ? { readAhead: this.#options.readAhead } : {}),
          name: `${this.#job.name}:${stage.name}`,
          jobId: this.#job.jobId,
          signal: this.#controller.signal,
          ...(stage.request ? { request: stage.request } : {}),
          ...(stage.retries === undefined ? {} : { retries: stage.retries }),
          ...(stage.formatRetries === undefined ? {} : { formatRetries: stage.formatRetries }),
          ...(stage.modelDigest ? { modelDigest: stage.modelDigest } : {}),
          ...(stage.endpoint ? { endpoint: stage.endpoint } : {}),
          ...(this.#options.logger ? { logger: this.#options.logger } : {}),
          plugins: [
            stage.plugins,
            templatePrompt({ template: stage.template, system: stage.system, name: `stage-${stage.name}` }),
            this.#forwarder(stage),
            this.#handoff(index),
            this.#control.plugin(stage.name),
          ],
        },
        stage,
      ).then((summary) => {
        this.#summary.tokens += summary.tokens
        if (summary.error && !summary.interrupted) {
          this.#error ??= summary.error
          // An event's code is one the pipeline wrote from a SpoutError (or SPOUT_ERROR).
          const code = summary.error.code as SpoutErrorCode
          this.#controller.abort(new StageError(code, stage.name, summary.error.message))
        }
        return summary
      }),
    )
    for (const [index, run] of runs.entries()) {
      await run
      this.#channels[index + 1]?.close()
    }
  }

  /** The input as stage 0's records; records whose results are on disk go on without a request. */
  async *#source(): AsyncGenerator<StageRecord> {
    const idField = this.#options.idField ?? 'id'
    let position = 0
    for await (const input of this.#options.input) {
      position += 1
      const record: StageRecord = { id: recordId(input, idField, position), input }
      if (await this.#isFinal(record, 0)) continue
      const stored = await this.#stored[0]?.take(record.id)
      if (stored) await this.#advance(record, 0, stored)
      else yield record
    }
  }

  /** True (and counted as skipped) when the output already holds this record's final line. */
  async #isFinal(record: StageRecord, index: number): Promise<boolean> {
    if (!this.#done.has(record.id)) return false
    this.#summary.skipped += 1
    const stage = this.#stages[index]
    // Observers see it end, skipped, at the stage it would have entered, passing nothing on.
    if (stage) await this.#observe(stage, { ...skippedResult(record, stage), children: 0 })
    return true
  }

  /** Hands a record to stage `index`: its final line after the last stage, its stored result, or its queue. */
  async #enter(record: StageRecord, index: number): Promise<void> {
    if (await this.#isFinal(record, index)) return
    if (index === this.#stages.length) return this.#finish(record, {})
    const stored = await this.#stored[index]?.take(record.id)
    if (stored) return this.#advance(record, index, stored)
    await this.#channels[index]!.push(record)
  }

  /** A result of stage `index` an earlier run stored (`line`): filter, split, and on to the next stage. */
  async #advance(record: StageRecord, index: number, line: StageLine): Promise<void> {
    const decision = this.#decide(record, index, line)
    const stage = this.#stages[index]!
    // Observers see the stored result end, skipped (a resumed run does not ask for it again).
    await this.#observe(stage, withDecision({ ...line, input: record.input, skipped: true }, decision))
    return this.#act(decision, index)
  }

  /** What becomes of a record stage `index` ended with `line`: its final line now, or the next stage's records. */
  #decide(record: StageRecord, index: number, line: StageLine): Decision {
    const stage = this.#stages[index]!
    const next: StageRecord = { ...record, [stage.name]: line }
    let children: unknown[] | undefined
    try {
      const reason = stage.filter?.(next)
      if (typeof reason === 'string' && reason !== '') {
        return { record: next, outcome: { filtered: { stage: stage.name, reason } } }
      }
      if (stage.split) children = splitResult(stage.name, stage.split, line, next)
    } catch (error) {
      return { record: next, outcome: { error: { ...toEventError(error), stage: stage.name } } }
    }
    if (!children) return { records: [next] }
    if (children.length === 0) {
      return { record: next, outcome: { filtered: { stage: stage.name, reason: 'split: no items' } } }
    }
    return {
      records: children.map((item, position) => ({
        ...next,
        id: childId(next.id, stage.childPrefix ?? '', position + 1),
        item,
      })),
      split: true,
    }
  }

  async #act(decision: Decision, index: number): Promise<void> {
    if ('outcome' in decision) return this.#finish(decision.record, decision.outcome)
    for (const record of decision.records) await this.#enter(record, index + 1)
  }

  /** Stage `index`'s `recordEnd`: its line to the stage file first, then the record moves on. */
  #handoff(index: number): SpoutPlugin {
    const stage = this.#stages[index]!
    const last = index === this.#stages.length - 1
    return {
      name: `stage-${stage.name}-handoff`,
      recordEnd: async (result: RecordResult) => {
        const record = result.input as StageRecord
        let error = result.error
        if (!error && !last && result.response.trim() === '') {
          error = toEventError(
            new StageError('SPOUT_STAGE_EMPTY', stage.name, `record ${record.id}: the response is empty`),
          )
        }
        if (error) {
          await this.#observe(stage, { ...result, error })
          return this.#finish(record, { error: { ...error, stage: stage.name } })
        }
        const line = stageLine(result, stage)
        await this.#stageSinks[index]!.hookParallel('recordEnd', line as RecordResult)
        const decision = this.#decide(record, index, line)
        await this.#observe(stage, withDecision(result, decision))
        await this.#act(decision, index)
      },
    }
  }

  /** Observers see each stage's records as `<stage>:<id>`, with `stage` set. */
  #forwarder(stage: StageDefinition): SpoutPlugin {
    const observers = this.#observers
    const id = (recordId: string) => `${stage.name}:${recordId}`
    const plugin: SpoutPlugin = { name: `stage-${stage.name}-events` }
    if (observers.has('recordQueued')) {
      plugin.recordQueued = (event) =>
        observers.hookParallel('recordQueued', { ...event, recordId: id(event.recordId), stage: stage.name })
    }
    if (observers.has('recordStart')) {
      plugin.recordStart = (event) =>
        observers.hookParallel('recordStart', { ...event, recordId: id(event.recordId), stage: stage.name })
    }
    if (observers.has('writeChunk')) {
      plugin.writeChunk = (chunk) =>
        observers.hookParallel('writeChunk', { ...chunk, recordId: id(chunk.recordId), stage: stage.name })
    }
    return plugin
  }

  async #observe(stage: StageDefinition, result: RecordResult): Promise<void> {
    if (!this.#observers.has('recordEnd')) return
    await this.#observers.hookParallel('recordEnd', {
      ...result,
      id: `${stage.name}:${result.id}`,
      stage: stage.name,
    })
  }

  async #finish(record: StageRecord, outcome: Outcome): Promise<void> {
    const line: StagedLine = { id: record.id, input: record.input, stages: {} }
    if ('item' in record) line.item = record.item
    for (const stage of this.#stages) {
      const result = record[stage.name] as StageLine | undefined
      if (result) line.stages[stage.name] = result
    }
    if (outcome.filtered) {
      line.filtered = outcome.filtered
      this.#summary.filtered! += 1
    } else if (outcome.error) {
      line.error = outcome.error
      this.#summary.failed += 1
    } else this.#summary.ok += 1
    await this.#output.hookParallel('recordEnd', line as unknown as RecordResult)
  }

  async #end(): Promise<JobSummary> {
    const summary = this.#summary
    summary.duration = Math.round(performance.now() - this.#started)
    if (this.#error) summary.error = this.#error
    else if (this.#controller.signal.aborted) summary.interrupted = true
    const ends = await Promise.allSettled([
      this.#output?.hookParallel('jobEnd', summary),
      ...this.#sinkCalls('jobEnd'),
    ])
    for (const end of ends) if (end.status === 'rejected') summary.error ??= toEventError(end.reason)
    await Promise.allSettled(this.#stored.map((index) => index.close()))
    try {
      await this.#observers?.hookParallel('jobEnd', summary)
    } catch (error) {
      summary.error ??= toEventError(error)
    }
    return summary
  }
}

/** Records waiting for `stage` at most: `queueSize`, else twice its concurrency (at least 8). */
function queueSize(options: StagesOptions, stage: StageDefinition): number {
  return options.queueSize ?? Math.max(8, 2 * (stage.concurrency ?? 1))
}

/** The result observers get: with the filter's reason, the split's children, or the split's error. */
function withDecision(result: RecordResult, decision: Decision): RecordResult {
  if ('records' in decision) return decision.split ? { ...result, children: decision.records.length } : result
  const { filtered, error } = decision.outcome
  if (error) return { ...result, error: { code: error.code, message: error.message } }
  return filtered ? { ...result, filtered: filtered.reason } : result
}

/** What observers get for a record a resumed run skips at `stage`: its final line is in the output. */
function skippedResult(record: StageRecord, stage: StageDefinition): RecordResult {
  const now = new Date().toISOString()
  const result = blankResult(record.id, record.input, stage.model, stage.client.kind, now)
  return { ...result, ended_at: now, skipped: true }
}

/** A stage's result as its file and the final line keep it: no input (the record holds it), with the host. */
function stageLine(result: RecordResult, stage: StageDefinition): StageLine {
  const { input: _input, error: _error, skipped: _skipped, stage: _stage, ...line } = result
  line.host ??= stage.client.host
  return line
}
