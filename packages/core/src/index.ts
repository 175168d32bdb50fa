// @spout/core: the Ollama streaming client, the event model and the pipeline.
// Each area adds its exports by name; no `export *`.

export type { ParseEventResult } from './event-schema.ts'
export { parseEvent, spoutEventSchema } from './event-schema.ts'
// Event model (also available browser-safe from `@spout/core/events`)
export type {
  ChunkEvent,
  EventError,
  EventMessage,
  JobEndEvent,
  JobStartEvent,
  JobSummary,
  RecordEndEvent,
  RecordMetrics,
  RecordStartEvent,
  SpoutEvent,
  SpoutEventType,
} from './events.ts'
export { eventTypes } from './events.ts'
export type { JobState, JobStatus, RecordState, RecordStatus, SpoutState } from './reducer.ts'
export { applyEvent, applyEvents, createState, getRecord, removeJob } from './reducer.ts'
export type { HubErrorFrame, HubFrame, HubSnapshotFrame, JobSnapshot } from './hub-protocol.ts'
export { formatResume, fromSnapshot, hubCloseCodes, parseResume, toSnapshot } from './hub-protocol.ts'
