import {
  type Backend,
  type EventError,
  type ModelDigest,
  type PluginOption,
  type RecordResult,
  runPipeline,
  type SpoutEvent,
  type SpoutPlugin,
  templatePrompt,
} from '@spout/core'
import { type Job, WaitingError, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { displayRedisUrl, openRedis } from './connection.ts'
import { RedisError } from './errors.ts'
import { EventFramer } from './event-framer.ts'
import {
  type BatchSpec,
  batchKeys,
  defaultQueueName,
  queuePrefix,
  type RecordJobData,
  runsKey,
} from './queue-keys.ts'
import { WorkerStops } from './worker-stops.ts'

export interface QueueWorkerOptions {
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  url: string
  /** Generates the records: an `OllamaClient`, an `OpenAIClient`, a `HostPool`, … */
  client: Backend
  /** Records at once. Default: the client's slots when it has a capacity (a pool), else 1. */
  concurrency?: number
  /**
   * Workers of one process sharing `client` (`spout run --queue --workers N`): each takes its part
   * of the client's slots (or of `concurrency`), rounded up, so together they take what one would.
   * Default 1.
   */
  sharedBy?: number
  /** The worker's own plugins (prompt builders, sinks): they run on every record it takes. */
  plugins?: PluginOption
  /** The model digests of the worker's server, for each line's provenance. */
  modelDigest?: ModelDigest
  /** The BullMQ queue. Default `spout`. */
  queue?: string
  /**
   * How long a record's lock lasts without renewal (ms): a worker that dies holding records gives
   * them back after about this long, when another worker's stalled-job check finds them. Default 30,000.
   */
  lockDuration?: number
  /** Each failure talking to Redis or running a record outside the pipeline (the CLI prints it). */
  onError?: (error: RedisError) => void
}

export interface QueueWorker {
  /** Records this worker has handed back. */
  readonly completed: number
  /**
   * Stops taking records; with `force`, at once (the records in flight are cancelled and go back
   * to the queue for another worker), else after those in flight are done.
   */
  close(options?: { force?: boolean }): Promise<void>
}

/** Times a record may be found stalled (its worker died) and be taken again before BullMQ fails it. */
const maxStalledCount = 10

/**
 * Takes records from the queue (BullMQ) and runs each through `runPipeline` with the batch's
 * settings (kept in Redis by the collector), its own backend and plugins. Events go to the batch's
 * event stream as they happen; the result line goes to the batch's results stream before the job
 * completes, so a worker killed at any point loses nothing: BullMQ's stalled-job check gives the
 * record to another worker, and the collector keeps the first line per id.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const queue = options.queue ?? defaultQueueName
  const url = displayRedisUrl(options.url)
  const redis = await openRedis(options.url, 'spout-worker')
  let stops: WorkerStops
  try {
    stops = await WorkerStops.listen(await openRedis(options.url, 'spout-worker-stops'), queue)
  } catch (error) {
    redis.disconnect()
    throw error
  }
  const report = (message: string, cause: unknown) =>
    options.onError?.(
      new RedisError('SPOUT_REDIS_COMMAND', url, `${message}: ${(cause as Error)?.message ?? cause}`, {
        cause,
      }),
    )
  let completed = 0
  const lockDuration = options.lockDuration ?? 30_000
  const share = (slots: number) => Math.max(1, Math.ceil(slots / Math.max(1, options.sharedBy ?? 1)))
  const concurrency = share(options.concurrency ?? options.client.capacity?.slots ?? 1)
  const worker = new Worker<RecordJobData, string>(
    queue,
    async (job, token, signal) => {
      const outcome = await runRecord(job, redis, queue, options, signal, stops)
      if (outcome === 'stopped') {
        // Given back at once, for another worker (or this one's next run): not a failure, no lock to wait out.
        await job.moveToWait(token)
        throw new WaitingError()
      }
      if (outcome === 'done') completed += 1
      return outcome
    },
    {
      connection: redis,
      prefix: queuePrefix(queue),
      concurrency,
      lockDuration,
      stalledInterval: lockDuration,
      maxStalledCount,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 24 * 3600 },
      autorun: true,
    },
  )
  worker.on('error', (error) => report('worker', error))
  // A pool whose learned slots change takes as many records as it has slots.
  const unsubscribe =
    options.concurrency === undefined
      ? options.client.capacity?.subscribe(() => {
          worker.concurrency = share(options.client.capacity?.slots ?? 1)
        })
      : undefined
  await worker.waitUntilReady()
  return {
    get completed() {
      return completed
    },
    async close({ force = false } = {}) {
      unsubscribe?.()
      if (force) worker.cancelAllJobs('the worker is stopping')
      await worker.close()
      stops.close()
      redis.disconnect()
    },
  }
}

/** One job: the record through the pipeline, its events onto the stream, its line onto the results. */
async function runRecord(
  job: Job<RecordJobData, string>,
  redis: Redis,
  queue: string,
  options: QueueWorkerOptions,
  signal: AbortSignal | undefined,
  stops: WorkerStops,
): Promise<'done' | 'gone' | 'superseded' | 'stopped'> {
  const data = job.data
  const keys = batchKeys(queue, data.runId)
  const text = await redis.get(keys.spec)
  // The batch is over (its collector removed it) or Redis lost it: nothing to do; a collector still
  // waiting writes the spec again and adds the record again.
  if (text === null) return 'gone'
  const spec = JSON.parse(text) as BatchSpec
  // A fresh run of the same name replaced this one: its records are not wanted any more.
  if ((await redis.hget(runsKey(queue), spec.name)) !== spec.runId) return 'superseded'
  // A record taken again after its worker died: its attempts go on from the earlier ones.
  const earlier = Math.max(0, job.attemptsStarted - 1)
  const framer = new EventFramer(redis, keys.events)
  let line: RecordResult | undefined
  const forward: SpoutPlugin = {
    name: 'spout-queue-worker',
    recordStart(event) {
      framer.push({ ...event, recordId: data.id, attempt: event.attempt + earlier } as SpoutEvent)
    },
    writeChunk(chunk) {
      framer.push({ ...chunk, recordId: data.id })
    },
    recordEnd(result) {
      if (result.skipped) return
      line = { ...result, id: data.id, attempts: result.attempts + earlier }
      if (result.error) line.error = renamed(result.error, result.id, data.id)
    },
  }
  // A viewer's stop of this record, through the collector, reaches it here.
  const held = stops.hold(data.runId, data.id)
  const summary = await runPipeline({
    client: options.client,
    model: spec.model,
    input: [data.record],
    name: spec.name,
    jobId: spec.jobId,
    ...(signal ? { signal } : {}),
    ...(spec.request ? { request: spec.request } : {}),
    ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
    ...(spec.retries === undefined ? {} : { retries: spec.retries }),
    ...(spec.formatRetries === undefined ? {} : { formatRetries: spec.formatRetries }),
    ...(spec.idField === undefined ? {} : { idField: spec.idField }),
    ...(options.modelDigest ? { modelDigest: options.modelDigest } : {}),
    plugins: [
      spec.system !== undefined || spec.template !== undefined
        ? templatePrompt({ system: spec.system, template: spec.template })
        : undefined,
      options.plugins,
      forward,
      held.plugin,
    ],
  }).finally(held.release)
  await framer.flush()
  if (signal?.aborted) return 'stopped'
  // The job itself failed (a plugin's jobStart threw): BullMQ fails the job, the collector writes why.
  if (!line) throw new Error(summary.error?.message ?? 'the pipeline ended without a result')
  // Before the job completes: should this worker die now, the record runs again and the collector
  // keeps the first line it reads for the id.
  await redis.xadd(keys.results, '*', 'id', data.id, 'line', JSON.stringify(line))
  return 'done'
}

/**
 * The pipeline here names the record by its id in this one-record input (its position, 1, when the
 * input has no id field); the line's error names it by the batch's id, as a local run would.
 */
function renamed(error: EventError, here: string, id: string): EventError {
  const prefix = `record ${here}:`
  if (here === id || !error.message.startsWith(prefix)) return error
  return { ...error, message: `record ${id}:${error.message.slice(prefix.length)}` }
}
