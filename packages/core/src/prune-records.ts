// Bounding a job's memory: its oldest finished records go (or those a view is done with), its counters stay.
import { type JobState, jobOf, jobTable, type RecordState, type SpoutState } from './job-state.ts'

/** How many finished records {@link pruneRecords} lets a job keep. */
export interface RecordLimits {
  /** Done and skipped records kept: the most recent ones (by first appearance). */
  maxFinished: number
  /**
   * Failed records kept, counted apart from the done ones so that failures outlive a flood of
   * successes. Default: `maxFinished`.
   */
  maxFailed?: number
}

/**
 * Bounds a job's memory: drops its oldest finished records beyond `limits` (running records always
 * stay). The job's counters (`ok`, `failed`, `skipped`, `tokens`, `retries`, `chunkCount`,
 * `lastSequence`) do not change, `prunedRecords` counts what was dropped, and kept records keep
 * their identity. Pure: the given state is never changed.
 *
 * Amortized O(1) per call: nothing happens (and the same state comes back) until the finished
 * records held pass 1.5 × (`maxFinished` + `maxFailed`); then one O(records) pass brings them back
 * under the limits. So a job holds at most that many finished records plus its running ones.
 *
 * An event for a dropped record afterwards treats it as a new record (a replay with a hub
 * `sequence` is still ignored, like any replay). With an infinite limit nothing is ever pruned.
 */
export function pruneRecords(state: SpoutState, jobId: string, limits: RecordLimits): SpoutState {
  const job = jobOf(state, jobId)
  if (!job) return state
  const maxFinished = Math.max(0, limits.maxFinished)
  const maxFailed = Math.max(0, limits.maxFailed ?? limits.maxFinished)
  const limit = maxFinished + maxFailed
  const finishedHeld = job.records.length - job.streaming - (job.queued ?? 0)
  if (!(finishedHeld > limit + Math.max(1, Math.ceil(limit / 2)))) return state
  const kept: RecordState[] = []
  let finishedKept = 0
  let failedKept = 0
  for (let position = job.records.length - 1; position >= 0; position--) {
    const record = job.records[position]!
    if (record.status === 'streaming' || record.status === 'queued') kept.push(record)
    else if (record.status === 'failed') {
      if (failedKept < maxFailed) {
        failedKept += 1
        kept.push(record)
      }
    } else if (finishedKept < maxFinished) {
      finishedKept += 1
      kept.push(record)
    }
  }
  return withRecords(state, jobId, job, kept.reverse())
}

/**
 * Drops the finished records (done, failed, skipped) that `drop` picks; running and queued records
 * always stay. The counters do not change and `prunedRecords` counts what went, as with
 * {@link pruneRecords}. O(records held). Pure: the same state comes back when nothing is dropped.
 *
 * For a view that shows each finished record once and then lets it go (the terminal).
 */
export function dropRecords(
  state: SpoutState,
  jobId: string,
  drop: (record: RecordState) => boolean,
): SpoutState {
  const job = jobOf(state, jobId)
  if (!job) return state
  const kept = job.records.filter(
    (record) => record.status === 'streaming' || record.status === 'queued' || !drop(record),
  )
  return withRecords(state, jobId, job, kept)
}

/** The state with the job's records replaced by `kept` (a subsequence of them, in order). */
function withRecords(state: SpoutState, jobId: string, job: JobState, kept: RecordState[]): SpoutState {
  const dropped = job.records.length - kept.length
  if (dropped === 0) return state
  const recordIndex = new Map<string, number>()
  for (let position = 0; position < kept.length; position++)
    recordIndex.set(kept[position]!.recordId, position)
  const jobs = jobTable(state.jobs)
  jobs[jobId] = {
    ...job,
    records: kept,
    recordIndex,
    prunedRecords: (job.prunedRecords ?? 0) + dropped,
  }
  return { jobs, jobOrder: state.jobOrder }
}
