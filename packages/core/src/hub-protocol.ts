/**
 * The frames the hub (`@spout/ws-server`) and its viewers exchange besides plain events.
 * Browser-safe: shipped in `@spout/core/events`.
 */
import type { SpoutEvent } from './events.ts'
import { type JobState, jobOf, jobTable, type RecordState, type SpoutState } from './reducer.ts'

/** A job as JSON: the reducer's job without its lookup index. */
export type JobSnapshot = Omit<JobState, 'recordIndex' | 'records'> & { records: RecordState[] }

/**
 * Jobs with their records and text so far. `full: true` replaces the viewer's whole state (first
 * connect, or the hub restarted: `hubId` changed); `full: false` replaces only the jobs it carries.
 */
export interface HubSnapshotFrame {
  type: 'hub-snapshot'
  /** Identifies one run of the hub; sequences are only comparable under the same `hubId`. */
  hubId: string
  full: boolean
  jobs: JobSnapshot[]
}

/** Something the hub refused, e.g. a malformed event from a producer. The connection stays open. */
export interface HubErrorFrame {
  type: 'hub-error'
  code: string
  message: string
}

/** What a viewer can receive: one event, a batch of events, or a control frame. */
export type HubFrame = SpoutEvent | SpoutEvent[] | HubSnapshotFrame | HubErrorFrame

/** WebSocket close codes the hub uses (4000-4999 is the application range). */
export const hubCloseCodes = {
  /** Missing or wrong token. */
  unauthorized: 4401,
  /** The browser's Origin is not the hub's. */
  forbiddenOrigin: 4403,
  /** The viewer stopped reading and its send buffer passed the limit. */
  slowViewer: 4408,
  /** A producer kept sending invalid frames. */
  invalidFrames: 4400,
  /** The hub is shutting down. */
  goingAway: 1001,
} as const

/** Turns jobs of a reducer state into JSON for a `hub-snapshot` frame. */
export function toSnapshot(state: SpoutState, jobIds: Iterable<string> = state.jobOrder): JobSnapshot[] {
  const jobs: JobSnapshot[] = []
  for (const jobId of jobIds) {
    const job = jobOf(state, jobId)
    if (!job) continue
    const { recordIndex: _index, records, ...rest } = job
    jobs.push({ ...rest, records: [...records] })
  }
  return jobs
}

/**
 * Folds a `hub-snapshot` frame into a state: with `full`, the result holds exactly the snapshot's jobs;
 * otherwise the snapshot's jobs replace those of the same id and the others stay.
 */
export function fromSnapshot(state: SpoutState, frame: Pick<HubSnapshotFrame, 'full' | 'jobs'>): SpoutState {
  const jobs = frame.full ? jobTable() : jobTable(state.jobs)
  const jobOrder = frame.full ? [] : [...state.jobOrder]
  for (const snapshot of frame.jobs) {
    const recordIndex = new Map(snapshot.records.map((record, position) => [record.recordId, position]))
    if (!Object.hasOwn(jobs, snapshot.jobId)) jobOrder.push(snapshot.jobId)
    jobs[snapshot.jobId] = { ...snapshot, records: snapshot.records, recordIndex }
  }
  return { jobs, jobOrder }
}

/** The `resume` query value: `jobId:lastSequence` pairs, job ids URI-encoded, comma separated. */
export function formatResume(state: SpoutState): string {
  return state.jobOrder
    .map((jobId) => `${encodeURIComponent(jobId)}:${state.jobs[jobId]?.lastSequence ?? 0}`)
    .join(',')
}

/** Reads a `resume` query value; pairs that do not parse are left out. */
export function parseResume(value: string | null | undefined): Map<string, number> {
  const resume = new Map<string, number>()
  if (!value) return resume
  for (const pair of value.split(',')) {
    const colon = pair.lastIndexOf(':')
    if (colon <= 0) continue
    const sequence = Number(pair.slice(colon + 1))
    if (!Number.isSafeInteger(sequence) || sequence < 0) continue
    try {
      resume.set(decodeURIComponent(pair.slice(0, colon)), sequence)
    } catch {
      // a malformed escape: skip this pair
    }
  }
  return resume
}
