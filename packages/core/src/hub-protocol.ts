/**
 * The frames the hub (`@spout/ws-server`) and its viewers exchange besides plain events.
 * Browser-safe: shipped in `@spout/core/events`.
 */
import type { SpoutEvent } from './events.ts'
import { type JobState, jobOf, jobTable, type RecordState, type SpoutState } from './job-state.ts'

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

/**
 * A command on the control channel: a viewer holding the hub's control token sends it to the hub,
 * which forwards it, as is, to the producer of the job. `stop-job` stops the job as Ctrl-C does;
 * `stop-record` aborts one record (running or queued). What they stop ends `SPOUT_ABORTED` (resumable).
 */
export interface ControlCommand {
  type: 'control'
  action: 'stop-job' | 'stop-record'
  jobId: string
  /** `stop-record`: the record's id. */
  recordId?: string
}

/** Sent once to a viewer that presented a control token: whether the hub takes its commands. */
export interface HubControlFrame {
  type: 'hub-control'
  allowed: boolean
  /** Why not, when not allowed. */
  reason?: string
}

/**
 * What a viewer can receive: one event, a batch of events, or a control frame. (A viewer that
 * presented a control token also gets one {@link HubControlFrame} first.)
 */
export type HubFrame = SpoutEvent | SpoutEvent[] | HubSnapshotFrame | HubErrorFrame

/** Checks an untrusted value as a {@link ControlCommand}; the message says what is wrong. */
export function parseControlCommand(
  value: unknown,
): { ok: true; command: ControlCommand } | { ok: false; message: string } {
  if (typeof value !== 'object' || value === null) return { ok: false, message: 'not a JSON object' }
  const { type, action, jobId, recordId } = value as Record<string, unknown>
  if (type !== 'control') return { ok: false, message: `type must be "control", not ${JSON.stringify(type)}` }
  if (action !== 'stop-job' && action !== 'stop-record')
    return { ok: false, message: `action must be "stop-job" or "stop-record", not ${JSON.stringify(action)}` }
  if (typeof jobId !== 'string' || jobId === '' || jobId.length > 200)
    return { ok: false, message: 'jobId must be a string of 1 to 200 characters' }
  if (action === 'stop-job') return { ok: true, command: { type, action, jobId } }
  if (typeof recordId !== 'string' || recordId === '' || recordId.length > 1000)
    return { ok: false, message: 'stop-record needs a recordId of 1 to 1000 characters' }
  return { ok: true, command: { type, action, jobId, recordId } }
}

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
