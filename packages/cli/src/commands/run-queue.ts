// `spout run --queue redis://…`: the batch goes onto a BullMQ queue; workers (`spout worker`, and
// `--workers N` in this process) generate; this process collects the lines into the output, shows
// the workers' events live and forwards them to the hub, through the same plugins as a local run.
import { randomBytes } from 'node:crypto'
import {
  type InputRecord,
  type JobControl,
  type JobSummary,
  type PipelineOptions,
  type PluginContext,
  type PluginOption,
  type RecordResult,
  recordId,
  SpoutError,
  type SpoutPlugin,
} from '@spout/core'
import { type JobStartEvent, recordQueuedEvent } from '@spout/core/events'
import { blankResult } from '@spout/core/plugin'
import { CliError } from '../cli-error.ts'
import { lineError } from '../input-line-error.ts'
import { loadRedisPackage, type RedisPackage } from '../redis-package.ts'

type QueueBatch = Awaited<ReturnType<RedisPackage['openQueueBatch']>>
type QueueWorker = Awaited<ReturnType<RedisPackage['startQueueWorker']>>

export interface QueueRunSettings {
  /** `redis://…` or `rediss://…`. */
  url: string
  /** Workers this process also runs, sharing the run's own backend and its slots (`-c`, or the pool's). */
  workers: number
  /** A stage of a staged run: its records go on the stage's own queue (`spout.teacher`). */
  stage?: string
  /** Go on with the batch of the same name already on the queue. */
  resume: boolean
  /** Prompt settings the workers apply (`templatePrompt`). */
  system?: string
  template?: string
  /** Where Redis warnings go (one line each). */
  warn: (message: string) => void
  importRedis?: () => Promise<RedisPackage>
}

type ParallelHook = 'jobStart' | 'recordQueued' | 'recordStart' | 'writeChunk' | 'recordEnd' | 'jobEnd'

/** Calls one parallel hook of every plugin, together, as the pipeline does. */
async function callHook(plugins: SpoutPlugin[], hook: ParallelHook, value: unknown, context: PluginContext) {
  const calls: unknown[] = []
  for (const plugin of plugins) {
    const entry = plugin[hook] as
      | ((value: unknown, context: PluginContext) => unknown)
      | { handler: (value: unknown, context: PluginContext) => unknown }
      | undefined
    const handler = typeof entry === 'function' ? entry : entry?.handler
    if (handler) calls.push(handler.call(plugin, value, context))
  }
  await Promise.all(calls)
}

function flatten(option: PluginOption, into: SpoutPlugin[] = []): SpoutPlugin[] {
  if (!option) return into
  if (Array.isArray(option)) for (const each of option) flatten(each as PluginOption, into)
  else into.push(option as SpoutPlugin)
  return into
}

/** The pipeline's options, run on the queue instead of here: resolves to the job summary. */
export async function runOnQueue(options: PipelineOptions, settings: QueueRunSettings): Promise<JobSummary> {
  const redis = await loadRedisPackage('--queue', settings.importRedis)
  const started = performance.now()
  const summary: JobSummary = { ok: 0, failed: 0, skipped: 0, tokens: 0, duration: 0 }
  const controller = new AbortController()
  const onAbort = () => controller.abort(options.signal?.reason)
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  const plugins = flatten(options.plugins)
  const logger = options.logger ?? { info() {}, warn() {} }
  const job = {
    jobId: options.jobId ?? `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    name: options.name ?? 'spout',
    model: options.model,
    host: redis.displayRedisUrl(settings.url),
  }
  let batch: QueueBatch | undefined
  // A viewer's stop-job stops collecting as Ctrl-C does (what is queued stays queued for --resume);
  // stop-record takes a waiting record off the queue, or has its worker abort it.
  const control: JobControl = {
    stopJob: (reason) => controller.abort({ code: 'SPOUT_ABORTED', message: `job stopped: ${reason}` }),
    abortRecord: (recordId, reason) => batch?.abortRecord(recordId, reason) ?? false,
  }
  const context: PluginContext = { signal: controller.signal, job, logger, control }
  const onError = (error: Error) => settings.warn(error.message)
  const workers: QueueWorker[] = []
  try {
    batch = await openBatch(redis, options, settings, job, workers, onError)
    const here =
      workers.length === 0
        ? 'no worker here'
        : `${workers.length} worker${workers.length === 1 ? '' : 's'} here`
    logger.info(`batch "${job.name}" queued on ${job.host} (run ${batch.runId}); ${here}`)
    const start: JobStartEvent = { type: 'job-start', ...job, startedAt: new Date().toISOString() }
    if (options.total !== undefined) start.total = options.total
    await callHook(plugins, 'jobStart', start, context)

    const recordEnd = async (line: RecordResult) => {
      countLine(summary, line)
      await callHook(plugins, 'recordEnd', line, context)
    }
    const entries = queueEntries(options, recordEnd)
    for await (const item of batch.collect(entries, controller.signal)) {
      if (item.type === 'result') await recordEnd(item.line)
      else if (item.type === 'queued')
        await callHook(plugins, 'recordQueued', recordQueuedEvent(job.jobId, item.id), context)
      else if (item.type === 'duplicate')
        logger.warn(`record id ${item.id} appears again in the input: the queue runs each id once`)
      else if (item.event.type === 'record-start') await callHook(plugins, 'recordStart', item.event, context)
      else if (item.event.type === 'chunk') await callHook(plugins, 'writeChunk', item.event, context)
    }
  } catch (error) {
    if (error instanceof CliError) throw error
    summary.error = {
      code: (error as { code?: string }).code ?? 'SPOUT_ERROR',
      message: (error as Error).message,
    }
    controller.abort(error)
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    await Promise.all(workers.map((worker) => worker.close({ force: controller.signal.aborted })))
  }
  summary.duration = Math.round(performance.now() - started)
  if (controller.signal.aborted && !summary.error) summary.interrupted = true
  try {
    await callHook(plugins, 'jobEnd', summary, context)
    // Every line is in the output: the batch leaves Redis. Interrupted, it stays for --resume.
    if (!summary.interrupted && !summary.error) await batch?.finish()
  } catch (error) {
    summary.error ??= { code: 'SPOUT_ERROR', message: (error as Error).message }
  } finally {
    await batch?.close()
  }
  return summary
}

/**
 * Opens the batch on the queue and starts this process's workers (into `workers`: the caller closes
 * them); a failure is a usage error.
 */
async function openBatch(
  redis: RedisPackage,
  options: PipelineOptions,
  settings: QueueRunSettings,
  job: { jobId: string; name: string },
  workers: QueueWorker[],
  onError: (error: Error) => void,
): Promise<QueueBatch> {
  const queue = settings.stage === undefined ? undefined : redis.stageQueueName(settings.stage)
  try {
    const batch = await redis.openQueueBatch({
      url: settings.url,
      resume: settings.resume,
      ...(queue ? { queue } : {}),
      onError,
      spec: {
        jobId: job.jobId,
        name: job.name,
        model: options.model,
        ...(options.request ? { request: options.request } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.retries === undefined ? {} : { retries: options.retries }),
        ...(options.formatRetries === undefined ? {} : { formatRetries: options.formatRetries }),
        ...(options.idField === undefined ? {} : { idField: options.idField }),
        ...(settings.system === undefined ? {} : { system: settings.system }),
        ...(settings.template === undefined ? {} : { template: settings.template }),
      },
    })
    for (let index = 0; index < settings.workers; index++) {
      workers.push(
        await redis.startQueueWorker({
          url: settings.url,
          ...(queue ? { queue } : {}),
          client: options.client,
          ...(options.client.capacity ? {} : { concurrency: options.concurrency ?? 1 }),
          sharedBy: settings.workers,
          ...(options.modelDigest ? { modelDigest: options.modelDigest } : {}),
          onError,
        }),
      )
    }
    return batch
  } catch (error) {
    throw new CliError(`--queue: ${(error as Error).message}`, {
      cause: error,
      ...(error instanceof SpoutError ? { code: error.code } : {}),
    })
  }
}

/** Counts a record's line in the job's summary. */
function countLine(summary: JobSummary, line: RecordResult): void {
  if (line.skipped) summary.skipped += 1
  else if (line.error) summary.failed += 1
  else {
    summary.ok += 1
    summary.tokens += line.metrics.eval_count ?? 0
  }
}

/**
 * The input as queue entries: each record's id as the pipeline gives it; records resume skips and
 * malformed lines end here, without going to the queue.
 */
async function* queueEntries(
  options: PipelineOptions,
  recordEnd: (line: RecordResult) => Promise<void>,
): AsyncGenerator<{ id: string; record: InputRecord }> {
  let position = 0
  for await (const record of options.input) {
    position += 1
    const id = recordId(record, options.idField ?? 'id', position)
    // A staged run's records hold the input line in `input`.
    const inner = record.input
    const malformed =
      lineError(record) ?? (inner && typeof inner === 'object' ? lineError(inner as InputRecord) : undefined)
    if (!malformed && !options.skip?.has(id)) {
      yield { id, record }
      continue
    }
    const now = new Date().toISOString()
    const line: RecordResult = {
      ...blankResult(id, record, options.model, options.client.kind, now),
      ended_at: now,
    }
    if (malformed) line.error = { code: malformed.code, message: malformed.message }
    else line.skipped = true
    await recordEnd(line)
  }
}
