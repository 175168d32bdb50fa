import type { SpoutEvent } from '@spout/core'
import {
  applyEvents,
  createState,
  pruneRecords,
  removeJob,
  type SpoutState,
  toSnapshot,
} from '@spout/core/events'
import { HistoryRing } from './history.ts'

export interface JobStoreLimits {
  historySize: number
  historyBytes: number
  maxFinishedJobs: number
  finishedJobTtlMs: number
  maxJobs: number
  /** Done and skipped records kept per job (see core's `pruneRecords`). Default: unbounded. */
  maxFinishedRecords?: number
  /** Failed records kept per job. Default: `maxFinishedRecords`. */
  maxFailedRecords?: number
}

const maxRememberedCounters = 10_000

/** Events applied by one flush, ready to send: the frame text and how many events it holds. */
export interface FlushedBatch {
  readonly frame: string
  readonly events: number
  /** The jobs the events belong to. */
  readonly jobIds: readonly string[]
}

/** What a (re)connecting viewer gets: a snapshot of some jobs, then replayed events. */
export interface ViewerCatchUp {
  readonly snapshotJobIds: string[]
  readonly replay: string[]
}

/**
 * The hub's memory: the reducer state of every kept job (each record's text stored once; per job,
 * every running record and the most recent finished ones), the per-job sequence counters, the
 * events stamped but not yet sent, and the resume history.
 */
export class JobStore {
  #state: SpoutState = createState()
  readonly #limits: JobStoreLimits
  readonly #history: HistoryRing
  /** Last sequence stamped per job (may run ahead of the state until the next flush). */
  readonly #stamped = new Map<string, number>()
  readonly #activity = new Map<string, number>()
  readonly #finishedAt = new Map<string, number>()
  #pending: SpoutEvent[] = []
  #snapshotCache: { state: SpoutState; json: string } | undefined

  constructor(limits: JobStoreLimits) {
    this.#limits = limits
    this.#history = new HistoryRing(limits.historySize, limits.historyBytes)
  }

  get state(): SpoutState {
    return this.#state
  }

  get pendingCount(): number {
    return this.#pending.length
  }

  get historyLength(): number {
    return this.#history.length
  }

  get historyBytes(): number {
    return this.#history.bytes
  }

  /** Stamps the event with its job's next sequence and queues it for the next flush. */
  stamp(event: SpoutEvent, now: number): void {
    event.sequence = (this.#stamped.get(event.jobId) ?? this.#state.jobs[event.jobId]?.lastSequence ?? 0) + 1
    this.take(event, now)
  }

  /** Queues an event stamped elsewhere (by a hub bus) for the next flush. */
  take(event: SpoutEvent, now: number): void {
    const sequence = event.sequence ?? 0
    if (sequence > (this.#stamped.get(event.jobId) ?? 0)) this.#stamped.set(event.jobId, sequence)
    this.#activity.set(event.jobId, now)
    this.#pending.push(event)
  }

  /** Applies the queued events to the state and records them in the history. */
  flush(now: number): FlushedBatch | undefined {
    const events = this.#pending
    if (events.length === 0) return undefined
    this.#pending = []
    this.#state = applyEvents(this.#state, events)
    this.#pruneRecords(events)
    const parts: string[] = new Array(events.length)
    const jobIds = new Set<string>()
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!
      jobIds.add(event.jobId)
      const json = JSON.stringify(event)
      parts[index] = json
      this.#history.push({ jobId: event.jobId, sequence: event.sequence!, json })
      if (event.type === 'job-end') this.#finishedAt.set(event.jobId, now)
    }
    this.prune(now)
    const frame = parts.length === 1 ? parts[0]! : `[${parts.join(',')}]`
    return { frame, events: events.length, jobIds: [...jobIds] }
  }

  /** JSON of a snapshot of the given jobs (all jobs when omitted); cached while the state is unchanged. */
  snapshotJson(hubId: string, full: boolean, jobIds?: readonly string[]): string {
    if (full && jobIds === undefined) {
      if (this.#snapshotCache?.state !== this.#state) {
        const json = JSON.stringify({ type: 'hub-snapshot', hubId, full, jobs: toSnapshot(this.#state) })
        this.#snapshotCache = { state: this.#state, json }
      }
      return this.#snapshotCache.json
    }
    return JSON.stringify({ type: 'hub-snapshot', hubId, full, jobs: toSnapshot(this.#state, jobIds) })
  }

  /**
   * Works out what a viewer that holds `positions` (job id → last sequence) has missed: events
   * replayed from history where it reaches back, a snapshot of the job otherwise, and a snapshot of
   * every job the viewer did not list.
   */
  catchUp(positions: ReadonlyMap<string, number>): ViewerCatchUp {
    const listed = new Map<string, number>()
    for (const [jobId, sequence] of positions) {
      if (this.#state.jobs[jobId]) listed.set(jobId, sequence)
    }
    const reachable = this.#history.since(listed, (jobId) => this.#state.jobs[jobId]?.lastSequence ?? 0)
    const snapshotJobIds: string[] = []
    const replayByJob = new Map<string, string[]>()
    for (const jobId of this.#state.jobOrder) {
      if (!listed.has(jobId)) {
        snapshotJobIds.push(jobId)
        continue
      }
      const events = reachable.get(jobId)
      if (events === undefined) snapshotJobIds.push(jobId)
      else if (events.length > 0) replayByJob.set(jobId, events)
    }
    // Interleave nothing: per-job order is what matters, so jobs follow one another.
    const replay: string[] = []
    for (const events of replayByJob.values()) replay.push(...events)
    return { snapshotJobIds, replay }
  }

  /** Records held over all jobs (running and finished). */
  get recordsHeld(): number {
    let held = 0
    for (const jobId of this.#state.jobOrder) held += this.#state.jobs[jobId]?.records.length ?? 0
    return held
  }

  /** Keeps each job the batch touched within the per-job record limits (amortized O(1) per event). */
  #pruneRecords(events: readonly SpoutEvent[]): void {
    const maxFinished = this.#limits.maxFinishedRecords
    if (maxFinished === undefined || maxFinished === Number.POSITIVE_INFINITY) return
    const limits = { maxFinished, maxFailed: this.#limits.maxFailedRecords ?? maxFinished }
    let previous: string | undefined
    for (const event of events) {
      if (event.jobId === previous) continue
      previous = event.jobId
      this.#state = pruneRecords(this.#state, event.jobId, limits)
    }
  }

  jobCounts(): { running: number; finished: number } {
    let running = 0
    for (const jobId of this.#state.jobOrder) if (this.#state.jobs[jobId]?.status === 'running') running += 1
    return { running, finished: this.#state.jobOrder.length - running }
  }

  /** Drops finished jobs past their count or age, and the least active jobs past `maxJobs`. */
  prune(now: number): void {
    const { maxFinishedJobs, finishedJobTtlMs, maxJobs } = this.#limits
    const state = this.#state
    const finished = state.jobOrder.filter((jobId) => state.jobs[jobId]?.status !== 'running')
    const remove = new Set<string>()
    for (const jobId of finished) {
      const endedAt = this.#finishedAt.get(jobId) ?? now
      if (now - endedAt > finishedJobTtlMs) remove.add(jobId)
    }
    const keptFinished = finished.filter((jobId) => !remove.has(jobId))
    for (const jobId of keptFinished.slice(0, Math.max(0, keptFinished.length - maxFinishedJobs))) {
      remove.add(jobId)
    }
    const left = state.jobOrder.length - remove.size
    if (left > maxJobs) {
      const byActivity = state.jobOrder
        .filter((jobId) => !remove.has(jobId))
        .sort((a, b) => (this.#activity.get(a) ?? 0) - (this.#activity.get(b) ?? 0))
      for (const jobId of byActivity.slice(0, left - maxJobs)) remove.add(jobId)
    }
    if (remove.size === 0) return
    let next = state
    for (const jobId of remove) {
      next = removeJob(next, jobId)
      this.#activity.delete(jobId)
      this.#finishedAt.delete(jobId)
    }
    this.#state = next
    // Counters outlive their jobs (bounded), so a dropped job that comes back goes on from its
    // last sequence: a viewer still holding it must not ignore the new events as replays.
    if (this.#stamped.size > maxRememberedCounters) {
      for (const jobId of this.#stamped.keys()) {
        if (this.#stamped.size <= maxRememberedCounters) break
        if (!(jobId in next.jobs)) this.#stamped.delete(jobId)
      }
    }
  }
}
