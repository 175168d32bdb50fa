// What the collector (`spout run --queue`) and the workers (`spout worker`) agree on: the queue's
// name, the keys of a batch, a job's id and data. One home for the layout of a batch in Redis.
import type { InputRecord, RecordResult, RequestDefaults } from '@spout/core'

/** The BullMQ queue every batch of one Redis (and `queue` name) goes through. Default `spout`. */
export const defaultQueueName = 'spout'

/**
 * BullMQ's key prefix for `queue`: the queue's name as a hash tag (`{spout}`), so every key of one
 * queue (`{spout}:spout:wait`, …) is in one Redis Cluster slot, as BullMQ's scripts need.
 */
export function queuePrefix(queue: string): string {
  return `{${queue}}`
}

/**
 * The queue of one stage of a staged run (`spout run --queue` with `stages`): `spout.teacher`. Each
 * stage has its own, so its workers (`spout worker --stage teacher`) can run where its model is.
 */
export function stageQueueName(stage: string, queue: string = defaultQueueName): string {
  return `${queue}.${stage}`
}

/**
 * How a batch's records become requests on a worker: everything `spout run` would have used,
 * as plain JSON (plugins are code: a worker loads its own).
 */
export interface BatchSpec {
  /** The batch's identity in Redis: stays the same when the run is resumed. */
  runId: string
  /** Job id of its events (the viewer's job). */
  jobId: string
  name: string
  model: string
  request?: RequestDefaults
  endpoint?: 'generate' | 'chat'
  retries?: number
  formatRetries?: number
  idField?: string
  /** `templatePrompt` on the worker: a system prompt and a template with `{{field}}` placeholders. */
  system?: string
  template?: string
}

/** A BullMQ job's data: one record of one batch. */
export interface RecordJobData {
  runId: string
  /** The record's id (its `idField`, or its position): the output's key. */
  id: string
  record: InputRecord
}

/** A result line as a worker hands it back, in the batch's results stream. */
export type ResultLine = RecordResult

/** The keys of one batch (hash-tagged: one Redis Cluster slot per batch). */
export function batchKeys(queue: string, runId: string) {
  const base = `{${queue}:batch:${runId}}`
  return {
    /** The {@link BatchSpec}, JSON. */
    spec: `${base}:spec`,
    /** Stream of result lines (`id`, `line`): kept until the collector has written them. */
    results: `${base}:results`,
    /** Stream of event frames (`f`: JSON array), trimmed: for the live view only. */
    events: `${base}:events`,
    /** Pub/sub channel of {@link StopRecord} messages to the workers. */
    control: `${base}:control`,
  }
}

/** The pattern of every batch's control channel on `queue`: a worker listens to all of them. */
export function controlPattern(queue: string): string {
  return `{${queue}:batch:*}:control`
}

/** A collector's message to the workers: abort this record if you hold it (a viewer's stop). */
export interface StopRecord {
  runId: string
  id: string
  reason: string
}

/** Hash of batch name → the run id it currently stands for (a fresh run replaces the old one). */
export function runsKey(queue: string): string {
  return `${queue}:runs`
}

/**
 * The BullMQ job id of a record: the run id and the record id (encoded: BullMQ refuses `:` and
 * bare integers), so adding a record twice is a no-op.
 */
export function recordJobId(runId: string, id: string): string {
  return `${runId}.${encodeURIComponent(id)}`
}
