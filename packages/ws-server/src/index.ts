// @spout/ws-server: the live broadcast hub and its producer plugin.

export type { BroadcastSinkOptions } from './broadcast-sink.ts'
export { broadcastSink } from './broadcast-sink.ts'
export type { HubErrorCode } from './errors.ts'
export { HubError } from './errors.ts'
export type { Hub } from './hub.ts'
export { createHub, hubErrorCodes, hubIdHeader } from './hub.ts'
export type { HubBus } from './hub-bus.ts'
export type { HubPublisherOptions, PublisherLogger } from './hub-publisher.ts'
export { HubPublisher } from './hub-publisher.ts'
export type { HubOptions } from './options.ts'
export { hubDefaults } from './options.ts'
export { bundledViewerDir } from './viewer-dir.ts'
