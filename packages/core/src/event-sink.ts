import type { RecordEndEvent, SpoutEvent } from './events.ts'
import type { PluginContext, RecordResult, SpoutPlugin } from './plugin.ts'

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
  return event
}

export interface EventSinkOptions {
  /** Plugin name, default `event-sink`. */
  name?: string
}

/**
 * A plugin that hands every event (job-start, record-start, chunk, record-end, job-end) to a
 * function, in order, and awaits it: a slow function paces the stream. The hub's producer and the
 * terminal display are built on it.
 */
export function eventSink(
  onEvent: (event: SpoutEvent, context: PluginContext) => void | Promise<void>,
  options: EventSinkOptions = {},
): SpoutPlugin {
  return {
    name: options.name ?? 'event-sink',
    jobStart: (event, context) => onEvent(event, context),
    recordStart: (event, context) => onEvent(event, context),
    writeChunk: (chunk, context) => onEvent(chunk, context),
    recordEnd: (result, context) => onEvent(recordEndEvent(context.job.jobId, result), context),
    jobEnd: (summary, context) =>
      onEvent(
        { type: 'job-end', jobId: context.job.jobId, summary, endedAt: new Date().toISOString() },
        context,
      ),
  }
}
