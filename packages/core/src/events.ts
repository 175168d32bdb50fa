/**
 * The Spout event model: the one shape that flows from the pipeline through sinks and the hub
 * to the browser. Plain JSON only; no Node imports (this file ships in `@spout/core/events`).
 */

import type { Metrics } from './types.ts'

/** A chat message as Ollama takes it. */
export interface EventMessage {
  role: string
  content: string
  thinking?: string
  images?: string[]
  tool_calls?: unknown[]
  tool_name?: string
}

/** Ollama's counts and durations (nanoseconds) for one record, plus derived tokens per second. */
export interface RecordMetrics extends Metrics {
  /** `eval_count / eval_duration` in tokens per second, when both are known. */
  tokens_per_second?: number
}

/** What went wrong with a record or a job, as plain JSON. */
export interface EventError {
  /** A documented error code, e.g. `SPOUT_HTTP_ERROR`. */
  code: string
  message: string
}

/** Counts for a finished (or interrupted) job. */
export interface JobSummary {
  ok: number
  failed: number
  skipped: number
  /** Generated tokens (sum of `eval_count`). */
  tokens: number
  /** Wall time in milliseconds. */
  duration: number
  /** Staged runs: final records a stage's filter dropped (each has its line, with the reason). */
  filtered?: number
  /** True when the job was stopped by a signal before it took every record. */
  interrupted?: boolean
  /** Set when the job itself failed (e.g. a `jobStart` hook threw, or every record hit the same 404). */
  error?: EventError
  /** Per-host figures at the end, when the job ran on a pool of hosts. */
  hosts?: HostReport[]
}

/** One host of a pool, as the job summary and the terminal panel show it. */
export interface HostReport {
  /** The host's address, e.g. `http://10.0.0.5:11434`. */
  host: string
  /** Its backend kind: `ollama`, `openai`, … */
  backend: string
  /** `up` (gets work), `checking` (a failure is being checked), `down` (probed with backoff). */
  state: 'up' | 'checking' | 'down'
  /** Requests it may have in flight: learned, or fixed when `fixed` is set. */
  slots: number
  /** True when the slots were given, not learned. */
  fixed?: boolean
  inFlight: number
  /** Records that finished there. */
  records: number
  /** Attempts that failed there (each was retried elsewhere or failed the record). */
  failures: number
  /** Tokens generated there. */
  tokens: number
  /** Tokens per second over the last ten seconds. */
  tokensPerSecond: number
  /** Why it is not up (the last failure). */
  reason?: string
}

/**
 * Fields every event may carry. `sequence` is stamped by the hub: a per-job counter starting at 1,
 * so a viewer can say which events it already has.
 */
interface EventBase {
  jobId: string
  sequence?: number
}

export interface JobStartEvent extends EventBase {
  type: 'job-start'
  name: string
  model: string
  host: string
  total?: number
  /** ISO 8601 time. */
  startedAt: string
  /** Staged runs: the stages' names, in order; each record's `recordId` is then `<stage>:<id>`. */
  stages?: string[]
}

/**
 * A record read from the input before a slot was free for it: it waits its turn. Sent once per
 * record, before its `record-start` (a record that gets a slot at once has none). A queued record
 * is not done: when the job stops before it starts, it gets no `record-end` and a resume runs it.
 */
export interface RecordQueuedEvent extends EventBase {
  type: 'record-queued'
  recordId: string
  /** Staged runs: the stage this record waits for; `recordId` is then `<stage>:<id>`. */
  stage?: string
}

export interface RecordStartEvent extends EventBase {
  type: 'record-start'
  recordId: string
  /** 1 for the first attempt, 2 for the first retry, and so on. A new attempt starts the text over. */
  attempt: number
  model: string
  /** The host this attempt went to, when the backend picks one per attempt (a pool of hosts). */
  host?: string
  /** That host's slots (learned or fixed concurrency) when the attempt started. */
  slots?: number
  /** Staged runs: the stage this record is in (`teacher`, `student`, …); `recordId` is then `<stage>:<id>`. */
  stage?: string
  system?: string
  prompt?: string
  messages?: EventMessage[]
}

export interface ChunkEvent extends EventBase {
  type: 'chunk'
  recordId: string
  /** 0-based position of this chunk in the record's current attempt. */
  seq: number
  text: string
  thinking?: string
  /** Staged runs: the stage this record is in (`teacher`, `student`, …); `recordId` is then `<stage>:<id>`. */
  stage?: string
}

export interface RecordEndEvent extends EventBase {
  type: 'record-end'
  recordId: string
  response: string
  thinking?: string
  doneReason?: string
  metrics?: RecordMetrics
  attempts: number
  /** The host of the last attempt, when the backend picks one per attempt (a pool of hosts). */
  host?: string
  error?: EventError
  /** True when resume skipped the record because the output already holds it. */
  skipped?: boolean
  /** Staged runs: the stage this record is in (`teacher`, `student`, …); `recordId` is then `<stage>:<id>`. */
  stage?: string
  /** Staged runs: why this stage's filter dropped the record (it goes no further; its final line says so). */
  filtered?: string
  /** Staged runs: the records this stage's split made of this one for the next stage (`<id>.<prefix><n>`). */
  children?: number
}

/**
 * The hosts of a pool as they are now (in flight, learned slots, tokens/s, up or down): sent while
 * the job runs on a pool of hosts, when the figures change, at most once a second. Each one replaces
 * the one before; the job-end's `summary.hosts` has the last figures.
 */
export interface HostsEvent extends EventBase {
  type: 'hosts'
  hosts: HostReport[]
}

export interface JobEndEvent extends EventBase {
  type: 'job-end'
  summary: JobSummary
  /** ISO 8601 time. */
  endedAt?: string
}

export type SpoutEvent =
  | JobStartEvent
  | RecordQueuedEvent
  | RecordStartEvent
  | ChunkEvent
  | RecordEndEvent
  | HostsEvent
  | JobEndEvent

export type SpoutEventType = SpoutEvent['type']

export const eventTypes: readonly SpoutEventType[] = [
  'job-start',
  'record-queued',
  'record-start',
  'chunk',
  'record-end',
  'hosts',
  'job-end',
] as const
