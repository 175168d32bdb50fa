import { jobResync, type SpoutEvent, type SpoutState } from '@spout/core/events'

/** Frames stay well under the hub's default 4 MiB `maxPayload`. */
const maxFrameBytes = 1024 * 1024
/** A record-start larger than this is sent without its images (the viewer does not show them). */
const maxRecordStartBytes = 256 * 1024

/** Groups event JSON into array frames of at most `maxFrameBytes` (a larger event goes alone). */
export function* frames(events: string[]): Generator<string> {
  let start = 0
  let bytes = 2
  for (let index = 0; index < events.length; index++) {
    const size = events[index]!.length + 1
    if (index > start && bytes + size > maxFrameBytes) {
      yield `[${events.slice(start, index).join(',')}]`
      start = index
      bytes = 2
    }
    bytes += size
  }
  if (start < events.length) yield `[${events.slice(start).join(',')}]`
}

/** Leaves images out of a very large record-start: the viewer shows prompts, not pictures. */
export function fitForHub(event: SpoutEvent): SpoutEvent {
  if (event.type !== 'record-start' || !event.messages?.some((message) => message.images?.length))
    return event
  if (JSON.stringify(event).length <= maxRecordStartBytes) return event
  return { ...event, messages: event.messages.map(({ images: _images, ...message }) => message) }
}

/**
 * The events that bring a hub (fresh or not) to this state: each job's events from `jobResync`
 * (its start, the end of every finished record the state still holds, each running record's start
 * plus one chunk with its text so far, its end if it ended). A restarted hub's counts for the job
 * cover only the records resent (a hub that only lost its connection gets every record it missed,
 * held unpruned within `maxBufferedBytes`); a job that ended carries its exact `summary`.
 */
export function resyncEvents(state: SpoutState): SpoutEvent[] {
  const events: SpoutEvent[] = []
  for (const jobId of state.jobOrder) {
    const job = state.jobs[jobId]
    if (job) events.push(...jobResync(job))
  }
  return events
}
