import { randomBytes } from 'node:crypto'
import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { displayRedisUrl, openRedis } from './connection.ts'
import { RedisError } from './errors.ts'
import { type CollectedItem, Collection, type CollectionParts, type QueueEntry } from './queue-collection.ts'
import {
  type BatchSpec,
  batchKeys,
  defaultQueueName,
  queuePrefix,
  type RecordJobData,
  runsKey,
} from './queue-keys.ts'

export type { CollectedItem, QueueEntry } from './queue-collection.ts'

export interface QueueBatchOptions {
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  url: string
  /** The batch's settings for the workers (its run id is chosen here). */
  spec: Omit<BatchSpec, 'runId'>
  /** Go on with the last run of the same name (its records already queued are not added twice). */
  resume?: boolean
  /** The BullMQ queue. Default `spout`. */
  queue?: string
  /** Records queued and not yet collected, at most (the input is read as they come back). Default 1,000. */
  window?: number
  /** How often queued records are checked (failed, or lost with Redis's data) in ms. Default 2,000. */
  sweepInterval?: number
  /** Each failure talking to Redis (the batch goes on and retries); the CLI prints it. */
  onError?: (error: RedisError) => void
}

export interface QueueBatch {
  /** The batch's identity in Redis; a resumed run keeps it. */
  readonly runId: string
  /**
   * Queues the entries (as many as `window` at a time; a record already queued is not added again)
   * and yields the workers' events and one line per entry, until every entry has its line or the
   * signal stops it (what is queued stays queued: a resume collects it).
   */
  collect(
    entries: AsyncIterable<QueueEntry> | Iterable<QueueEntry>,
    signal?: AbortSignal,
  ): AsyncIterable<CollectedItem>
  /**
   * A viewer's stop of record `id` of the collection under way: taken off the queue if it still
   * waits, else aborted by the worker that runs it; either way its line is failed, `SPOUT_ABORTED`.
   * False when no collection holds it queued.
   */
  abortRecord(id: string, reason: string): boolean
  /** Removes the batch from Redis: call it once every record is written. */
  finish(): Promise<void>
  close(): Promise<void>
}

/**
 * The collector's side of a batch on a BullMQ queue: records go in as jobs whose ids are the run id
 * and the record id, lines come back on the batch's results stream, written by the workers before
 * their job completes. A line read twice (a record run again after its worker died) is handed out
 * once; a record whose job failed in BullMQ gets a failed line; a record Redis lost (a restart
 * without its data) is queued again.
 */
export async function openQueueBatch(options: QueueBatchOptions): Promise<QueueBatch> {
  const queueName = options.queue ?? defaultQueueName
  const writer = await openRedis(options.url, 'spout-collector')
  let reader: Redis
  try {
    reader = await openRedis(options.url, 'spout-collector-reader')
  } catch (error) {
    writer.disconnect()
    throw error
  }
  const runs = runsKey(queueName)
  const previous = options.resume ? await writer.hget(runs, options.spec.name) : null
  const runId = previous ?? newRunId(options.spec.name)
  const spec: BatchSpec = { ...options.spec, runId }
  const keys = batchKeys(queueName, runId)
  await writer.set(keys.spec, JSON.stringify(spec))
  await writer.hset(runs, spec.name, runId)
  const queue = new Queue<RecordJobData, string>(queueName, {
    connection: writer,
    prefix: queuePrefix(queueName),
  })
  queue.on('error', () => {}) // reported through failed commands
  return new Collector(options, spec, queue, writer, reader)
}

function newRunId(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40) || 'batch'
  return `${slug}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
}

class Collector implements QueueBatch {
  readonly runId: string
  readonly #options: QueueBatchOptions
  readonly #spec: BatchSpec
  readonly #keys: ReturnType<typeof batchKeys>
  readonly #queue: Queue<RecordJobData, string>
  readonly #writer: Redis
  readonly #reader: Redis
  readonly #url: string
  #collection: Collection | undefined

  constructor(
    options: QueueBatchOptions,
    spec: BatchSpec,
    queue: Queue<RecordJobData, string>,
    writer: Redis,
    reader: Redis,
  ) {
    this.runId = spec.runId
    this.#options = options
    this.#spec = spec
    this.#keys = batchKeys(options.queue ?? defaultQueueName, spec.runId)
    this.#queue = queue
    this.#writer = writer
    this.#reader = reader
    this.#url = displayRedisUrl(options.url)
  }

  collect(
    entries: AsyncIterable<QueueEntry> | Iterable<QueueEntry>,
    signal?: AbortSignal,
  ): AsyncIterable<CollectedItem> {
    const collection = new Collection(this.#parts(), entries, signal)
    this.#collection = collection
    return collection.items()
  }

  abortRecord(id: string, reason: string): boolean {
    return this.#collection?.abort(id, reason) ?? false
  }

  #parts(): CollectionParts {
    return {
      spec: this.#spec,
      keys: this.#keys,
      queue: this.#queue,
      writer: this.#writer,
      reader: this.#reader,
      window: this.#options.window ?? 1000,
      sweepInterval: this.#options.sweepInterval ?? 2000,
      url: this.#url,
      report: (message: string, cause: unknown) =>
        this.#options.onError?.(
          new RedisError(
            'SPOUT_REDIS_COMMAND',
            this.#url,
            `${message}: ${(cause as Error)?.message ?? cause}`,
            {
              cause,
            },
          ),
        ),
    }
  }

  async finish(): Promise<void> {
    const runs = runsKey(this.#options.queue ?? defaultQueueName)
    await this.#writer.del(this.#keys.spec, this.#keys.results, this.#keys.events)
    if ((await this.#writer.hget(runs, this.#spec.name)) === this.runId)
      await this.#writer.hdel(runs, this.#spec.name)
  }

  async close(): Promise<void> {
    await this.#queue.close().catch(() => {})
    this.#reader.disconnect()
    await this.#writer.quit().catch(() => this.#writer.disconnect())
  }
}
