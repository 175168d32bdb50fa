// Every event of the model is built here, beside the reducer that folds them: the pipeline, the
// event sink and the hub publisher's resync all make their events through these functions.
// Browser-safe: no Node imports.
import { SpoutError } from './errors.ts'
import type {
  ChunkEvent,
  EventError,
  EventMessage,
  HostReport,
  HostsEvent,
  JobEndEvent,
  JobStartEvent,
  JobSummary,
  RecordEndEvent,
  RecordQueuedEvent,
  RecordStartEvent,
  SpoutEvent,
} from './events.ts'
import type { JobState, RecordState } from './job-state.ts'
import type { RecordResult } from './plugin.ts'

/** What a job-start names: the job, its model and host, and its size when known. */
export interface JobStartFields {
  jobId: string
  name: string
  model: string
  host: string
  startedAt: string
  total?: number | undefined
  stages?: readonly string[] | undefined
}

export function jobStartEvent(fields: JobStartFields): JobStartEvent {
  const event: JobStartEvent = {
    type: 'job-start',
    jobId: fields.jobId,
    name: fields.name,
    model: fields.model,
    host: fields.host,
    startedAt: fields.startedAt,
  }
  if (fields.total !== undefined) event.total = fields.total
  if (fields.stages !== undefined) event.stages = [...fields.stages]
  return event
}

/** A record read ahead of a free slot: it waits its turn. */
export function recordQueuedEvent(jobId: string, recordId: string): RecordQueuedEvent {
  return { type: 'record-queued', jobId, recordId }
}

/** What a record-start carries: the attempt, the model, and what was sent. */
export interface RecordStartFields {
  attempt: number
  model: string
  host?: string | undefined
  slots?: number | undefined
  system?: string | null | undefined
  prompt?: string | undefined
  messages?: EventMessage[] | undefined
}

export function recordStartEvent(
  jobId: string,
  recordId: string,
  fields: RecordStartFields,
): RecordStartEvent {
  const event: RecordStartEvent = {
    type: 'record-start',
    jobId,
    recordId,
    attempt: fields.attempt,
    model: fields.model,
  }
  if (fields.host !== undefined) event.host = fields.host
  if (fields.slots !== undefined) event.slots = fields.slots
  if (fields.system !== null && fields.system !== undefined) event.system = fields.system
  if (fields.prompt !== undefined) event.prompt = fields.prompt
  if (fields.messages !== undefined) event.messages = fields.messages
  return event
}

/** One piece of a record's text (and of its thinking, when the model thinks aloud). */
export function chunkEvent(
  jobId: string,
  recordId: string,
  seq: number,
  text: string,
  thinking?: string | undefined,
): ChunkEvent {
  const event: ChunkEvent = { type: 'chunk', jobId, recordId, seq, text }
  if (thinking) event.thinking = thinking
  return event
}

/** The `record-end` event for a result. */
export function recordEndEvent(jobId: string, result: RecordResult): RecordEndEvent {
  const event: RecordEndEvent = {
    type: 'record-end',
    jobId,
    recordId: result.id,
    response: result.response,
    attempts: result.attempts,
  }
  if (result.thinking !== undefined) event.thinking = result.thinking
  if (result.done_reason !== null) event.doneReason = result.done_reason
  if (Object.keys(result.metrics).length > 0) event.metrics = result.metrics
  if (result.host !== undefined) event.host = result.host
  if (result.error !== undefined) event.error = result.error
  if (result.skipped) event.skipped = true
  if (result.stage !== undefined) event.stage = result.stage
  if (result.filtered !== undefined) event.filtered = result.filtered
  if (result.children !== undefined) event.children = result.children
  return event
}

/** A pool's hosts as they are now. */
export function hostsEvent(jobId: string, hosts: readonly HostReport[]): HostsEvent {
  return { type: 'hosts', jobId, hosts: hosts.map((host) => ({ ...host })) }
}

export function jobEndEvent(jobId: string, summary: JobSummary, endedAt?: string): JobEndEvent {
  const event: JobEndEvent = { type: 'job-end', jobId, summary }
  if (endedAt !== undefined) event.endedAt = endedAt
  return event
}

/**
 * The events that rebuild this job from nothing (the reducer in reverse): its start, the end of
 * every finished record the state still holds, each running record's start plus one chunk with its
 * text so far, and the job's end if it ended. Replaying them on a state that already had some of
 * them doubles no text: a record-start starts the record's text over, and a record-end for a
 * record the state holds changes no count.
 */
export function jobResync(job: JobState): SpoutEvent[] {
  const jobId = job.jobId
  const events: SpoutEvent[] = [jobStartEvent(job)]
  for (const record of job.records) {
    if (record.status === 'queued') {
      events.push(recordQueuedEvent(jobId, record.recordId))
      continue
    }
    if (record.status === 'streaming') {
      events.push(
        recordStartEvent(jobId, record.recordId, {
          attempt: record.attempt,
          model: record.model,
          system: record.system,
          prompt: record.prompt,
          messages: record.messages === undefined ? undefined : [...record.messages],
        }),
      )
      if (record.chunks > 0) events.push(chunkEvent(jobId, record.recordId, 0, record.text, record.thinking))
      continue
    }
    events.push(finishedRecordEnd(jobId, record))
  }
  if (job.hosts !== undefined && job.status === 'running') events.push(hostsEvent(jobId, job.hosts))
  if (job.status !== 'running' && job.summary) events.push(jobEndEvent(jobId, job.summary, job.endedAt))
  return events
}

function finishedRecordEnd(jobId: string, record: RecordState): RecordEndEvent {
  const end: RecordEndEvent = {
    type: 'record-end',
    jobId,
    recordId: record.recordId,
    response: record.text,
    attempts: record.attempts ?? record.attempt,
  }
  if (record.thinking) end.thinking = record.thinking
  if (record.doneReason !== undefined) end.doneReason = record.doneReason
  if (record.metrics !== undefined) end.metrics = record.metrics
  if (record.error !== undefined) end.error = record.error
  if (record.status === 'skipped') end.skipped = true
  if (record.filtered !== undefined) end.filtered = record.filtered
  if (record.children !== undefined) end.children = record.children
  return end
}

/** An error as plain JSON for events and result lines. */
export function toEventError(error: unknown): EventError {
  if (error instanceof SpoutError) return { code: error.code, message: error.message }
  if (isEventError(error)) return { code: error.code, message: error.message }
  if (error instanceof Error) {
    if (error.name === 'AbortError') return { code: 'SPOUT_ABORTED', message: error.message }
    const code = (error as { code?: unknown }).code
    return { code: typeof code === 'string' ? code : 'SPOUT_ERROR', message: error.message }
  }
  return { code: 'SPOUT_ERROR', message: String(error) }
}

function isEventError(value: unknown): value is EventError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EventError).code === 'string' &&
    typeof (value as EventError).message === 'string'
  )
}
