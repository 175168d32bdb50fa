// The reducer: folds the event model into a state of jobs and records (pure, copy-on-write, safe to
// replay). One reducer for every view: the hub's snapshots, the browser and the terminal.
import type { SpoutEvent } from './events.ts'
import { jobTable, type SpoutState } from './job-state.ts'
import { StateDraft } from './state-draft.ts'

/** Folds one event into the state. Pure: the given state is never changed. */
export function applyEvent(state: SpoutState, event: SpoutEvent): SpoutState {
  return applyEvents(state, [event])
}

/**
 * Folds many events at once. Pure, and cheaper than one `applyEvent` per event: each job, record
 * list and record touched by the batch is copied once, and everything untouched keeps its identity
 * (so a UI can skip re-rendering records that did not change).
 *
 * Idempotent for replays: an event whose hub `sequence` is not above the job's `lastSequence`,
 * and a chunk whose `seq` was already applied, change nothing.
 */
export function applyEvents(state: SpoutState, events: Iterable<SpoutEvent>): SpoutState {
  const draft = new StateDraft(state)
  for (const event of events) draft.apply(event)
  return draft.finish()
}

/** Drops a job (the hub uses it to bound memory). */
export function removeJob(state: SpoutState, jobId: string): SpoutState {
  if (!Object.hasOwn(state.jobs, jobId)) return state
  const jobs = jobTable(state.jobs)
  delete jobs[jobId]
  return { jobs, jobOrder: state.jobOrder.filter((id) => id !== jobId) }
}
