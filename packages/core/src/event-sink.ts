import { jobEndEvent, recordEndEvent } from './event-builders.ts'
import type { SpoutEvent } from './events.ts'
import type { PluginContext, SpoutPlugin } from './plugin.ts'

export interface EventSinkOptions {
  /** Plugin name, default `event-sink`. */
  name?: string
}

/**
 * A plugin that hands every event (job-start, record-queued, record-start, chunk, record-end,
 * hosts, job-end) to a function, in order, and awaits it: a slow function paces the stream. The hub's
 * producer and the terminal display are built on it.
 */
export function eventSink(
  onEvent: (event: SpoutEvent, context: PluginContext) => void | Promise<void>,
  options: EventSinkOptions = {},
): SpoutPlugin {
  return {
    name: options.name ?? 'event-sink',
    jobStart: (event, context) => onEvent(event, context),
    recordQueued: (event, context) => onEvent(event, context),
    recordStart: (event, context) => onEvent(event, context),
    writeChunk: (chunk, context) => onEvent(chunk, context),
    recordEnd: (result, context) => onEvent(recordEndEvent(context.job.jobId, result), context),
    hosts: (event, context) => onEvent(event, context),
    jobEnd: (summary, context) =>
      onEvent(jobEndEvent(context.job.jobId, summary, new Date().toISOString()), context),
  }
}
