import type { HubControlFrame, HubErrorFrame, RecordLimits, SpoutEvent, SpoutState } from '@spout/core/events'
import { applyEvents, createState, formatResume, fromSnapshot, pruneRecords } from '@spout/core/events'
import type { FlushScheduler } from './flush-scheduler.ts'
import { createArrivalScheduler } from './flush-scheduler.ts'
import type { ViewerFrame } from './frame.ts'

/** What the page says about its link to the hub. */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline'

export interface ConnectionInfo {
  readonly status: ConnectionStatus
  /** Failed attempts in a row (0 once connected). */
  readonly attempt: number
  /** Why the last connection ended, in one line, when it did not end cleanly. */
  readonly reason?: string
  /** When the next attempt starts (epoch milliseconds), while waiting to reconnect. */
  readonly retryAt?: number
  /** When the status last changed (epoch milliseconds). */
  readonly since: number
}

/** Everything the page renders from: the reducer's state plus the connection. */
export interface ViewerSnapshot {
  readonly state: SpoutState
  readonly connection: ConnectionInfo
  /** The hub run the state came from (from the last `hub-snapshot`); sent back when resuming. */
  readonly hubId?: string
  /** The last `hub-error` frame the hub sent. */
  readonly hubError?: HubErrorFrame
  /** What the hub said of the page's control token (`?control=`): stop buttons show when `allowed`. */
  readonly control?: HubControlFrame
  /** How many batches were applied so far (one as a frame arrives and one in the animation frame, at most, per display frame). */
  readonly flushes: number
}

export interface ViewerStoreOptions {
  /** When queued frames are applied; default: as they arrive, bunched ones at the next animation frame. */
  scheduler?: FlushScheduler
  now?: () => number
  /**
   * How many finished (and failed) records of each job the page keeps, like the hub's own limits, so a
   * page left open on a 100,000-record batch does not grow without end. Counters stay exact.
   */
  recordLimits?: RecordLimits
}

/** The hub's defaults: a late joiner and a page that watched from the start hold the same records. */
export const defaultRecordLimits: RecordLimits = { maxFinished: 10_000, maxFailed: 1_000 }

/**
 * An external store for `useSyncExternalStore`. Frames from the hub are queued as they arrive (each
 * WebSocket message is its own browser task) and folded into the state with one `applyEvents` per
 * flush: right after the message's task, or at the next animation frame for frames that bunch up
 * (`createArrivalScheduler`), so React renders about once per hub tick however fast tokens come in,
 * with no wait for the frame. The reducer keeps the identity of every job and record a batch did not
 * touch, which is what lets rows skip renders.
 */
export class ViewerStore {
  #snapshot: ViewerSnapshot
  #queue: ViewerFrame[] = []
  #cancelFlush: (() => void) | undefined
  readonly #listeners = new Set<() => void>()
  readonly #eventListeners = new Set<(events: readonly SpoutEvent[]) => void>()
  readonly #scheduler: FlushScheduler
  readonly #now: () => number
  readonly #recordLimits: RecordLimits

  constructor(options: ViewerStoreOptions = {}) {
    this.#scheduler = options.scheduler ?? createArrivalScheduler()
    this.#now = options.now ?? Date.now
    this.#recordLimits = options.recordLimits ?? defaultRecordLimits
    this.#snapshot = {
      state: createState(),
      connection: { status: 'connecting', attempt: 0, since: this.#now() },
      flushes: 0,
    }
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  getSnapshot = (): ViewerSnapshot => this.#snapshot

  /**
   * Hands each batch of events to `listener` as a flush applies it (before subscribers hear of the
   * new state), for views that need what the state does not keep, such as which host a chunk's
   * record went to.
   */
  observeEvents(listener: (events: readonly SpoutEvent[]) => void): () => void {
    this.#eventListeners.add(listener)
    return () => {
      this.#eventListeners.delete(listener)
    }
  }

  /** Queues a frame; it is applied at the next flush. */
  receive(frame: ViewerFrame): void {
    this.#queue.push(frame)
    this.#cancelFlush ??= this.#scheduler(() => {
      this.#cancelFlush = undefined
      this.flush()
    })
  }

  /** Applies every queued frame now, in arrival order, and tells subscribers once. */
  flush(): void {
    this.#cancelFlush?.()
    this.#cancelFlush = undefined
    const queue = this.#queue
    if (queue.length === 0) return
    this.#queue = []
    let { state, hubId, hubError, control } = this.#snapshot
    let batch: SpoutEvent[] = []
    for (const frame of queue) {
      if (frame.kind === 'events') {
        for (const event of frame.events) batch.push(event)
      } else if (frame.kind === 'snapshot') {
        if (batch.length > 0) state = this.#apply(state, batch)
        batch = []
        state = fromSnapshot(state, frame.snapshot)
        hubId = frame.snapshot.hubId
      } else if (frame.kind === 'control') {
        control = frame.control
      } else {
        hubError = frame.error
      }
    }
    if (batch.length > 0) state = this.#apply(state, batch)
    for (const jobId of state.jobOrder) state = pruneRecords(state, jobId, this.#recordLimits)
    const flushes = this.#snapshot.flushes + 1
    this.#set({ ...this.#snapshot, state, hubId, hubError, ...(control ? { control } : {}), flushes })
  }

  /** Where to pick up after a dropped connection: the hub run and each job's last sequence. */
  resumePosition(): { hubId?: string; resume: string } {
    this.flush()
    const { hubId, state } = this.#snapshot
    return { hubId, resume: formatResume(state) }
  }

  setConnection(connection: Omit<ConnectionInfo, 'since'>): void {
    const previous = this.#snapshot.connection
    const since = previous.status === connection.status ? previous.since : this.#now()
    this.#set({ ...this.#snapshot, connection: { ...connection, since } })
  }

  #apply(state: SpoutState, events: SpoutEvent[]): SpoutState {
    for (const listener of this.#eventListeners) listener(events)
    return applyEvents(state, events)
  }

  #set(snapshot: ViewerSnapshot): void {
    this.#snapshot = snapshot
    for (const listener of this.#listeners) listener()
  }
}
