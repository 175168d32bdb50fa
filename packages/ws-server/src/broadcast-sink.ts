import { eventSink, type SpoutPlugin } from '@spout/core'
import { HubPublisher, type HubPublisherOptions } from './hub-publisher.ts'

export type BroadcastSinkOptions = HubPublisherOptions

/**
 * A plugin that publishes every event of the job to a hub. It never slows or fails the batch:
 * events are sent without waiting, held in a bounded buffer while the hub is away (one warning),
 * and the hub is resynchronized when it comes back. At job end it waits at most `flushTimeoutMs`.
 */
export function broadcastSink(options: BroadcastSinkOptions): SpoutPlugin {
  const publisher = new HubPublisher(options)
  return eventSink(
    (event, context) => {
      publisher.publish(event, context.logger)
      if (event.type === 'job-end') return publisher.end()
    },
    { name: 'broadcast' },
  )
}
