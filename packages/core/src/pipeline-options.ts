import type { Backend } from './backend.ts'
import { PipelineError } from './errors.ts'
import type { InputRecord, PluginLogger, PluginOption } from './plugin.ts'
import type { ModelDigest } from './provenance.ts'
import type { RetryDelay } from './record-retry.ts'
import type { ChatRequest, GenerateRequest } from './types.ts'

/** What the pipeline needs of a client: the `Backend` seam (`OllamaClient`, `OpenAIClient`, a pool). */
export type PipelineClient = Backend

/** Request fields every record starts from (the model comes from `model`). */
export type RequestDefaults = Omit<Partial<GenerateRequest> & Partial<ChatRequest>, 'model' | 'stream'>

export interface PipelineOptions {
  client: PipelineClient
  /** The default model of every request (a prompt builder may change it per record). */
  model: string
  /** Default request fields: `system`, `options`, `format`, `think`, `keep_alive`, … */
  request?: RequestDefaults
  /** The records, pulled one at a time when a slot is free (or `readAhead` records sooner). */
  input: AsyncIterable<InputRecord> | Iterable<InputRecord>
  /**
   * Records read from the input before a slot is free for them, at most: each is announced with a
   * `recordQueued` hook (`record-queued` event) so a viewer shows it waiting. A queued record that
   * never starts (the job stopped) ends failed with `SPOUT_ABORTED`, like one in flight. Default 0.
   */
  readAhead?: number
  /**
   * With a client that reports its hosts (a `HostPool`): how often, in ms, the `hosts` hook may get
   * their figures (only when they changed). Default 1000.
   */
  hostReportPeriod?: number
  plugins?: PluginOption
  /**
   * Records in flight at most. Default 1 (Ollama's default `OLLAMA_NUM_PARALLEL`). Ignored when the
   * client reports its `capacity` (a `HostPool`): then the pipeline keeps `capacity.slots` in flight.
   */
  concurrency?: number
  /** Retries of a record after a transient failure (connection lost, 5xx, timeout). Default 2. */
  retries?: number
  /** Extra tries of a record the server turned away as busy (503): back-pressure, not failure. Default 10. */
  busyRetries?: number
  /** Extra tries of a record whose response fails its `format` (not JSON, schema mismatch, cut off). Default 2. */
  formatRetries?: number
  /** The model's digest for each line's provenance (`digestTable(await client.list())`). Default: none. */
  modelDigest?: ModelDigest
  /** Backoff between tries. Default `{ base: 500, max: 30_000 }` ms. */
  retryDelay?: RetryDelay
  /** The record field that holds its id. Default `id`; without it, a record's id is its 1-based position. */
  idField?: string
  /** Force an endpoint. Default: `chat` for records with `messages`, `generate` otherwise. A forced `chat` sends a record's `prompt` as a user message. */
  endpoint?: 'generate' | 'chat'
  /** Ids already done (resume): reported as skipped, no request. */
  skip?: ReadonlySet<string>
  /** Job name shown in events. Default `spout`. */
  name?: string
  /** Default: a random id. */
  jobId?: string
  /** Number of records, when known (shown as progress). Default: the length of an array input. */
  total?: number
  /** Stops taking records, cancels requests in flight; the job ends `interrupted`. */
  signal?: AbortSignal
  /** Where plugins' `context.logger` messages go. Default: nowhere. */
  logger?: PluginLogger
}

/** How hard one record is tried: the option values, checked, with their defaults. */
export interface AttemptPolicy {
  /** The job's model: a 404 for it fails the whole job (a prompt builder's own model fails one record). */
  readonly model: string
  readonly retries: number
  readonly busyRetries: number
  readonly formatRetries: number
  readonly retryDelay: RetryDelay | undefined
}

export function attemptPolicy(options: PipelineOptions): AttemptPolicy {
  return {
    model: options.model,
    retries: nonNegativeInteger(options.retries ?? 2, 'retries'),
    busyRetries: nonNegativeInteger(options.busyRetries ?? 10, 'busyRetries'),
    formatRetries: nonNegativeInteger(options.formatRetries ?? 2, 'formatRetries'),
    retryDelay: options.retryDelay,
  }
}

export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new PipelineError('SPOUT_INVALID_OPTION', `${name} must be a positive integer, not ${value}`)
  }
  return value
}

export function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new PipelineError('SPOUT_INVALID_OPTION', `${name} must be a whole number ≥ 0, not ${value}`)
  }
  return value
}
