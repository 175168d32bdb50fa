// The browser-safe entry `@spout/core/events`: event types, their schema and the reducer. No Node imports.

export type { Backoff } from './backoff.ts'
export { backoffDelay } from './backoff.ts'
export { jobResync, recordEndEvent, recordQueuedEvent } from './event-builders.ts'
export type { ParseEventResult } from './event-schema.ts'
export { parseEvent, spoutEventSchema } from './event-schema.ts'
export type {
  ChunkEvent,
  EventError,
  EventMessage,
  HostReport,
  HostsEvent,
  JobEndEvent,
  JobStartEvent,
  JobSummary,
  RecordEndEvent,
  RecordMetrics,
  RecordQueuedEvent,
  RecordStartEvent,
  SpoutEvent,
  SpoutEventType,
} from './events.ts'
export { eventTypes } from './events.ts'
export type {
  ControlCommand,
  HubControlFrame,
  HubErrorFrame,
  HubFrame,
  HubSnapshotFrame,
  JobSnapshot,
} from './hub-protocol.ts'
export {
  formatResume,
  fromSnapshot,
  hubCloseCodes,
  parseControlCommand,
  parseResume,
  toSnapshot,
} from './hub-protocol.ts'
export type {
  JobState,
  JobStatus,
  RecordState,
  RecordStatus,
  SpoutState,
  StageCounts,
} from './job-state.ts'
export { createState, getRecord } from './job-state.ts'
export type { RecordLimits } from './prune-records.ts'
export { dropRecords, pruneRecords } from './prune-records.ts'
export { applyEvent, applyEvents, removeJob } from './reducer.ts'
