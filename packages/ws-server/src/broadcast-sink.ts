import { eventSink, type PluginContext, type SpoutPlugin } from '@spout/core'
import type { ControlCommand } from '@spout/core/events'
import { HubPublisher, type HubPublisherOptions } from './hub-publisher.ts'

export type BroadcastSinkOptions = Omit<HubPublisherOptions, 'onControl'>

/**
 * A plugin that publishes every event of the job to a hub. It never slows or fails the batch:
 * events are sent without waiting, held in a bounded buffer while the hub is away (one warning),
 * and the hub is resynchronized when it comes back. At job end it waits at most `flushTimeoutMs`.
 *
 * It also takes the hub's control channel: a viewer's `stop-job` stops the job (as Ctrl-C does), a
 * `stop-record` aborts that record; both end what they stop with `SPOUT_ABORTED` (resumable).
 */
export function broadcastSink(options: BroadcastSinkOptions): SpoutPlugin {
  /** The running jobs this plugin publishes, by id: their context holds the hand on the job. */
  const jobs = new Map<string, PluginContext>()
  const onControl = (command: ControlCommand): void => {
    const context = jobs.get(command.jobId)
    if (!context?.control) return
    const reason = `from the viewer (hub ${publisher.url})`
    if (command.action === 'stop-job') {
      context.logger.warn(`a viewer stopped the job ${reason}`)
      context.control.stopJob(reason)
    } else if (command.recordId !== undefined && context.control.abortRecord(command.recordId, reason)) {
      context.logger.info(`a viewer stopped record ${command.recordId}`)
    }
  }
  const publisher = new HubPublisher({ ...options, onControl })
  return eventSink(
    (event, context) => {
      if (event.type === 'job-start') jobs.set(event.jobId, context)
      publisher.publish(event, context.logger)
      if (event.type === 'job-end') {
        jobs.delete(event.jobId)
        return publisher.end()
      }
    },
    { name: 'broadcast' },
  )
}
