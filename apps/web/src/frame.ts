import type { HubControlFrame, HubErrorFrame, HubSnapshotFrame, SpoutEvent } from '@spout/core/events'
import { eventTypes } from '@spout/core/events'

/** One frame from the hub, sorted into what the viewer does with it. */
export type ViewerFrame =
  | { kind: 'events'; events: SpoutEvent[] }
  | { kind: 'snapshot'; snapshot: HubSnapshotFrame }
  | { kind: 'error'; error: HubErrorFrame }
  | { kind: 'control'; control: HubControlFrame }

/**
 * Reads one text frame from the hub (contract §6): a `SpoutEvent`, an array of them, or a control
 * frame whose `type` starts with `hub-`. Returns undefined for anything else; the hub is trusted, so
 * this only sorts frames and does not validate every field.
 */
export function readFrame(data: string): ViewerFrame | undefined {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return undefined
  }
  if (Array.isArray(value)) {
    return { kind: 'events', events: value.filter(isEvent) }
  }
  if (!isObject(value) || typeof value.type !== 'string') return undefined
  if (value.type === 'hub-snapshot')
    return { kind: 'snapshot', snapshot: value as unknown as HubSnapshotFrame }
  if (value.type === 'hub-error') return { kind: 'error', error: value as unknown as HubErrorFrame }
  if (value.type === 'hub-control') return { kind: 'control', control: value as unknown as HubControlFrame }
  if (isEvent(value)) return { kind: 'events', events: [value] }
  return undefined
}

const eventTypeNames = new Set<string>(eventTypes)

function isEvent(value: unknown): value is SpoutEvent {
  return (
    isObject(value) &&
    typeof value.type === 'string' &&
    eventTypeNames.has(value.type) &&
    typeof value.jobId === 'string'
  )
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
