import type { BackendKind } from './backend.ts'
import type {
  ChunkEvent,
  EventError,
  EventMessage,
  HostsEvent,
  JobStartEvent,
  JobSummary,
  RecordMetrics,
  RecordQueuedEvent,
  RecordStartEvent,
} from './events.ts'
import type { ChatRequest, Format, GenerateRequest, Options } from './types.ts'

/** One input record: a plain object (a JSONL line, a CSV row, …). */
export type InputRecord = Record<string, unknown>

/** What one record becomes: an Ollama generate or chat request, with `model` set. */
export type PipelineRequest = GenerateRequest | ChatRequest

/** A logger handed to plugins; the pipeline prefixes each message with `[plugin NAME]`. */
export interface PluginLogger {
  info(message: string): void
  warn(message: string): void
}

/** The job a plugin runs in. */
export interface PluginJob {
  readonly jobId: string
  readonly name: string
  readonly model: string
  readonly host: string
}

/**
 * A hand on the running job, for plugins that take commands from outside (the hub's control
 * channel): both end what they stop with `SPOUT_ABORTED`, which a resume runs again.
 */
export interface JobControl {
  /**
   * Aborts one record: a running one is cancelled, a queued one is taken out of the queue; either
   * way it ends failed with `SPOUT_ABORTED`. False when no running or queued record has this id.
   */
  abortRecord(recordId: string, reason: string): boolean
  /** Stops the job as an abort of its `signal` does: no new records, those in flight cancelled, `interrupted`. */
  stopJob(reason: string): void
}

/** The last argument of every hook. Created once per plugin per job. */
export interface PluginContext {
  /** Aborted when the job stops (its signal aborted, or the job failed). */
  readonly signal: AbortSignal
  readonly job: PluginJob
  readonly logger: PluginLogger
  /** Stops the job or one record (`runPipeline` and `runStages` give it; a staged run names records `<stage>:<id>`). */
  readonly control?: JobControl
}

/**
 * One line of the output: what a record became. Every line carries the `(response, system)` pair;
 * `system` is the effective system prompt (the request's `system`, or the chat's system message),
 * `null` when none was sent.
 */
export interface RecordResult {
  id: string
  input: InputRecord
  model: string
  /** The backend that generated it (`ollama`, `openai`, `llama-cpp`, …): its `kind`, or the route's. */
  backend: BackendKind
  /** Where the last attempt went, when the backend reported a route (a pool of hosts does). */
  host?: string
  system: string | null
  prompt?: string
  messages?: EventMessage[]
  response: string
  /** The response as JSON, when the request had a `format` (`"json"` or a schema) and it matched. */
  parsed?: unknown
  thinking?: string
  /** Tool calls the model made (chat only, when any). */
  tool_calls?: unknown[]
  /** Ollama's `done_reason` (`stop`, `length`, …); `null` when the record did not finish. */
  done_reason: string | null
  metrics: RecordMetrics
  /** Requests sent for this record (0 when it failed before any request, or was skipped). */
  attempts: number
  /** The model options actually sent (`{}` when none): how the line was made. */
  options?: Options
  /** The `format` sent (`"json"` or a schema), when one was. */
  format?: Format
  /** The model's digest, when the server reported it. */
  model_digest?: string
  /** ISO 8601 time the record was taken from the input. */
  started_at: string
  /** ISO 8601 time the record ended. */
  ended_at: string
  error?: EventError
  /** True when resume skipped the record: the output already holds it. Sinks that write results ignore these. */
  skipped?: true
  /** Staged runs, on the results observers get: the stage (the `id` is then `<stage>:<id>`). */
  stage?: string
  /** Staged runs, on the results observers get: why the stage's filter dropped the record. */
  filtered?: string
  /** Staged runs, on the results observers get: the records the stage's split made of this one. */
  children?: number
}

/** What a prompt builder returns: a new request, or nothing to keep the one it got. */
// biome-ignore lint/suspicious/noConfusingVoidType: a builder whose body returns nothing must type-check
export type BuildPromptResult = PipelineRequest | undefined | void

/** The function form of every hook, by name. */
export interface FunctionPluginHooks {
  buildPrompt: (
    request: PipelineRequest,
    record: InputRecord,
    context: PluginContext,
  ) => BuildPromptResult | Promise<BuildPromptResult>
  jobStart: (event: JobStartEvent, context: PluginContext) => void | Promise<void>
  recordQueued: (event: RecordQueuedEvent, context: PluginContext) => void | Promise<void>
  recordStart: (event: RecordStartEvent, context: PluginContext) => void | Promise<void>
  writeChunk: (chunk: ChunkEvent, context: PluginContext) => void | Promise<void>
  recordEnd: (result: RecordResult, context: PluginContext) => void | Promise<void>
  hosts: (event: HostsEvent, context: PluginContext) => void | Promise<void>
  jobEnd: (summary: JobSummary, context: PluginContext) => void | Promise<void>
}

export type PluginHookName = keyof FunctionPluginHooks

/** Hooks that compose: each gets the value the previous one returned (rollup's `transform`). */
export type SequentialPluginHooks = 'buildPrompt'

/** Hooks that are independent consumers of the same value, run at once and awaited together. */
export type ParallelPluginHooks = Exclude<PluginHookName, SequentialPluginHooks>

/** Where a hook runs among the plugins: `pre` first, then unordered, then `post`, user order inside each. */
export type HookOrder = 'pre' | 'post'

/** A hook: a function, or `{ handler, order }`. */
export type Hook<F> = F | { handler: F; order?: HookOrder | null }

export interface SpoutPlugin {
  /** Kebab-case; shows in every error the plugin causes. */
  name: string
  /** Sequential: refines the request; return a new request, or nothing to keep it. */
  buildPrompt?: Hook<FunctionPluginHooks['buildPrompt']>
  /** Parallel: before any record; a throw fails the job before any request. */
  jobStart?: Hook<FunctionPluginHooks['jobStart']>
  /** Parallel: a record read ahead of a free slot (`readAhead`), before its first `recordStart`. */
  recordQueued?: Hook<FunctionPluginHooks['recordQueued']>
  /** Parallel: before each attempt's request. */
  recordStart?: Hook<FunctionPluginHooks['recordStart']>
  /** Parallel, awaited before the next chunk is read: the slowest sink paces the stream. */
  writeChunk?: Hook<FunctionPluginHooks['writeChunk']>
  /** Parallel, always runs once per record read from the input. */
  recordEnd?: Hook<FunctionPluginHooks['recordEnd']>
  /** Parallel: a pool's hosts changed (at most once a second, only when the client is a pool). */
  hosts?: Hook<FunctionPluginHooks['hosts']>
  /** Parallel, always runs once per job. */
  jobEnd?: Hook<FunctionPluginHooks['jobEnd']>
}

/** What `plugins` accepts: falsy entries are skipped and arrays flattened (presets). */
export type PluginOption = SpoutPlugin | false | null | undefined | readonly PluginOption[]

/** Identity, for types: `export default definePlugin({ name: 'x', writeChunk(chunk) { … } })`. */
export function definePlugin<T extends SpoutPlugin>(plugin: T): T {
  return plugin
}
